"""Print and share kits: QR codes, links in a chosen language, the embeddable widget's
snippet. A printed leaflet's QR code opens the web page in the leaflet's language."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup, escape

from feedback.core.languages import Language
from feedback.core.urls import external_url, site_path

WIDGET_MAX_ITEMS = 10


def qr_data_uri(url: str) -> str:
    """A QR code (segno, SVG) as a ``data:`` URI for an ``<img>`` on a printed page."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def link_in_language(endpoint: str, language: Language, values: dict | None = None) -> str:
    """An absolute link to a public page that opens it in ``language`` (through the
    language picker, which remembers the choice), or the page itself for the default."""
    page = external_url(endpoint, **(values or {}))
    if language.code == current_app.config["DEFAULT_LANGUAGE"]:
        return page
    return external_url("core.choose_language", code=language.code, next=site_path(page))


def widget_snippet(src: str, title: str) -> str:
    """The HTML a partner pastes into their site: an iframe, nothing else (no script, no
    cookies, no tracking). A plain string: the page escapes it to show it."""
    return str(Markup(
        '<iframe src="{src}" title="{title}" width="100%" height="480" loading="lazy" '
        'referrerpolicy="no-referrer" sandbox="allow-popups allow-popups-to-escape-sandbox">'
        '</iframe>').format(src=escape(src), title=escape(title)))
