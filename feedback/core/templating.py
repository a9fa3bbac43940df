"""Template filters and globals available in every template."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import Locale, dates
from flask import Flask, current_app, request, url_for
from flask_babel import format_date, format_datetime, format_percent, get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from feedback.core.assets import static_version
from feedback.core.i18n import current_language, lazy_text
from feedback.core.languages import (
    Language,
    display_name,
    enabled_languages,
    get_language,
    source_language,
)
from feedback.core.markdown import html_to_text, render_markdown
from feedback.core.suppression import suppress_count
from feedback.core.urls import external_url, url_maker

NAMED_FORMATS = {"short", "medium", "long", "full"}


@lru_cache(maxsize=4096)
def _day_in(day: date, format: str, locale: Locale) -> str:
    return dates.format_date(day, format, locale=locale)


def _date(value: datetime | None, format: str = "d MMMM yyyy") -> str:
    """A date in the reader's language. Lists show the same few days again and again, so
    each (day, pattern, locale) is formatted once per worker."""
    if not value:
        return ""
    if format in NAMED_FORMATS:  # the app may configure these: Flask-Babel knows them
        return format_date(value, format)
    locale = get_locale()
    if locale is None:
        return format_date(value, format)
    return _day_in(value.date() if isinstance(value, datetime) else value, format, locale)


def _datetime(value: datetime | None, format: str = "d MMMM yyyy, HH:mm") -> str:
    return format_datetime(value, format) if value else ""


def isolate(value, lang: str | Language | None = None, direction: str | None = None
            ) -> Markup:
    """Text someone typed (a name, a title in a list, an organisation's name), wrapped in
    ``<bdi>`` so its direction is its own: an English name ending in ")" or "?" keeps its
    punctuation in place inside an Urdu sentence, and an Urdu name inside an English one.
    Pass ``lang`` (and ``direction``) when the text's language is known, or a Language:
    ``name | isolate(content_language)`` marks text people wrote that is not translated
    (a person's name, a contact's) as being in the language content is written in.
    Empty stays empty. Registered fields go through ``translated_field`` instead.
    """
    if value is None or value == "":
        return Markup("")
    if isinstance(lang, Language):
        lang, direction = lang.code, lang.direction
    attributes = ""
    if lang:
        attributes += f' lang="{escape(lang)}"'
    if direction:
        attributes += f' dir="{escape(direction)}"'
    return Markup(f"<bdi{attributes}>{escape(value)}</bdi>")  # noqa: S704 - all escaped


def isolate_text(value) -> str:
    """The plain-text form of ``isolate``, for places markup cannot go: a value passed into
    a translated sentence (``_("%(name)s asked", name=x | isolate_text)``), a <title> or an
    attribute. Unicode's first-strong isolate (U+2068) and pop (U+2069) do what <bdi> does."""
    if value is None or value == "":
        return ""
    return f"\u2068{value}\u2069"


def _language_name(language: Language | str) -> str:
    """A language's name in the reader's language, from a Language or its code (a code
    nothing knows is shown as it is)."""
    if isinstance(language, str):
        found = get_language(language)
        return display_name(found) if found else language
    return display_name(language)


def _current_path() -> str:
    return request.full_path.rstrip("?") if request else "/"


def fixed_url(endpoint: str, **values) -> str:
    """``url_for`` for a link that is the same on every page (the menu, the stylesheets,
    the footer), built once per worker instead of dozens of times per page."""
    key = (endpoint, request.script_root, *sorted(values.items()))
    store = current_app.extensions.setdefault("feedback_fixed_urls", {})
    url = store.get(key)
    if url is None:
        if endpoint == "static":  # its address changes with its content
            values["v"] = static_version(values["filename"])
        url = url_for(endpoint, **values)
        if not current_app.debug:  # while developing, files change under a running server
            store[key] = url
    return url


def item_url(endpoint: str, name: str, value: str) -> str:
    """``url_for(endpoint, name=value)`` for a link each item of a list has (each card's
    own page): built once per worker with a stand-in value (``url_maker``), then each
    value put in, instead of twenty ``url_for`` per list."""
    key = (endpoint, name, request.script_root)
    store = current_app.extensions.setdefault("feedback_item_urls", {})
    make = store.get(key)
    if make is None:
        make = store[key] = url_maker(url_for, endpoint, name)
    return make(value)


def fragment(name: str, caller) -> Markup:
    """``{% call fragment("footer") %}…{% endcall %}``: markup that depends only on the
    site's settings and the reader's language, rendered once per language per worker.
    Never for anything that changes with the page, the person or the data."""
    language = current_language()
    key = (name, language.code, request.script_root)
    store = current_app.extensions.setdefault("feedback_fragments", {})
    html = store.get(key)
    if html is None:
        html = store[key] = caller()  # a macro call: already Markup
    return html


def language_links() -> list[tuple[object, str]]:
    """Each enabled language with its picker link back to this page: one ``url_for``
    with a stand-in code, then the code put in (language codes need no escaping)."""
    stand_in = "__language__"
    template = url_for("core.choose_language", code=stand_in, next=_current_path())
    return [(language, template.replace(stand_in, language.code, 1))
            for language in enabled_languages()]


def add_nav_item(app: Flask, endpoint: str, label) -> None:
    """Add a link to the header menu (each domain adds its own in ``create_app``)."""
    app.extensions.setdefault("feedback_nav", []).append((endpoint, label))


def init_templates(app: Flask) -> None:
    app.jinja_env.filters.update(
        markdown=render_markdown,
        plain_text=html_to_text,
        date=_date,
        datetime=_datetime,
        suppressed=lambda n: str(suppress_count(n)),
        percent=format_percent,
        isolate=isolate,
        isolate_text=isolate_text,
    )
    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["item_url"] = item_url  # a global: macros imported use it

    @app.context_processor
    def site_context() -> dict:
        language = current_language()
        return {
            "service_name": current_app.config["SERVICE_NAME"],
            "service_logo_url": current_app.config["SERVICE_LOGO_URL"],
            "current_language": language,
            "html_lang": language.code,
            "html_dir": language.direction,
            "enabled_languages": enabled_languages(),
            "current_path": _current_path,
            "language_links": language_links,
            "fixed_url": fixed_url,
            "fragment": fragment,
            "csrf_token": generate_csrf,
            # Translated here, through the request's catalog, not label by label.
            "nav_items": [(endpoint, lazy_text(label)) for endpoint, label
                          in current_app.extensions.get("feedback_nav", [])],
            "language_name": _language_name,
            # The language people's content is written in (for ``isolate``).
            "content_language": source_language(),

        }
