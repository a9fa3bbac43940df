"""Markdown to safe HTML: ``markdown`` renders, ``nh3`` removes anything dangerous."""

from __future__ import annotations

import re
from functools import lru_cache

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "i", "li",
    "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}


MEMO_MAX_CHARS = 20_000  # longer texts are rendered each time, not kept


def render_markdown(text: str | None) -> Markup:
    """Render Markdown written by people to sanitised HTML that is safe to show as is.

    Raw HTML in the source is escaped by ``markdown`` and whatever markup survives is
    cleaned by ``nh3``: no script, no event handlers, no ``javascript:`` links. The same
    text always gives the same HTML, so each worker keeps the latest few hundred (pages,
    feeds and the API show the same bodies again and again).
    """
    if not text:
        return Markup("")
    if len(text) <= MEMO_MAX_CHARS:
        return _remembered(text)
    return _render(text)


@lru_cache(maxsize=512)
def _remembered(text: str) -> Markup:
    return _render(text)


def _render(text: str) -> Markup:
    html = md.markdown(text, extensions=["sane_lists", "tables"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # noqa: S704 - nh3 has sanitised it


def markdown_to_text(text: str | None) -> str:
    """Plain text of a Markdown document (for plain-text email parts and feeds)."""
    return nh3.clean(str(render_markdown(text)), tags=set()).strip()


_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|div|tr|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def html_to_text(html: str | None) -> str:
    """Sanitised HTML as plain text, for text/plain email parts: a line for each block, no
    tags, entities decoded ("&amp;" is "&" again)."""
    lines = (Markup(part).striptags() for part in _BLOCK_END.split(str(html or "")))  # noqa: S704
    return "\n".join(line for line in lines if line)
