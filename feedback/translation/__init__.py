"""Content translation: providers, translation memory, review by people, display."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint, the template helpers and queueing on flush."""
    from markupsafe import Markup

    from feedback.translation.content import register_content
    from feedback.translation.display import (
        content_options,
        localised_text,
        prefetch_texts,
        prefetch_translations,
        translated_field,
        translated_text,
    )
    from feedback.translation.registry import init_queueing
    from feedback.translation.segments import clean_inline_html
    from feedback.translation.views import bp

    app.register_blueprint(bp)
    app.jinja_env.globals.update(translated_field=translated_field,
                                 translated_text=translated_text,
                                 localised_text=localised_text,
                                 prefetch_translations=prefetch_translations,
                                 prefetch_texts=prefetch_texts,
                                 content_options=content_options)
    from flask_babel import format_decimal

    app.jinja_env.filters.setdefault("number", format_decimal)
    app.jinja_env.filters["safe_segment"] = lambda text: Markup(clean_inline_html(text))  # noqa: S704
    register_content()
    init_queueing()
