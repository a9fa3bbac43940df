"""Atom feeds (RFC 4287) of published updates, for any filtered list.

The document is written out directly: fifty entries of a dozen elements each, which
building as an lxml tree (feedgen) made cost more than finding the updates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from flask import current_app

from feedback.core.languages import Language
from feedback.core.models import utcnow
from feedback.core.urls import external_url, url_maker
from feedback.translation.display import localise, lookup
from feedback.translation.segments import split
from feedback.updates.services import FeedEntry, UpdateFilters, rendered_body

# Characters XML 1.0 does not allow (control characters other than tab and newlines).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# As lxml writes them: a carriage return survives parsing only as a reference, and in
# an attribute so do tabs and newlines.
_IN_TEXT = {"\r": "&#13;"}
_IN_ATTRIBUTE = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


# Any character either function changes: most names and slugs have none.
_SPECIAL = re.compile("[&<>\"\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    """``value`` as XML character data."""
    if _SPECIAL.search(value) is None:
        return value
    return escape(_NOT_XML.sub("", value), _IN_TEXT)


def _attribute(value: str) -> str:
    """``value`` as a double-quoted XML attribute's value."""
    if _SPECIAL.search(value) is None:
        return value
    return escape(_NOT_XML.sub("", value), _IN_ATTRIBUTE)


def _date(value: datetime) -> str:
    return value.isoformat()


def atom_feed(updates: Sequence[FeedEntry], filters: UpdateFilters,
              language: Language | None = None) -> bytes:
    """An Atom document of ``updates`` (newest first, from ``feed_entries``). Every text
    is escaped; the body is the sanitised Markdown rendering, sent as escaped HTML
    content.

    With ``language`` (``?lang=``), titles, summaries, bodies, organisation names and
    topics use approved translations only: a feed reader shows no "machine translated"
    label. Untranslated parts stay in the original, and the body's blocks carry their
    own ``lang``."""
    args = filters.as_args()
    if language is not None:
        args["lang"] = language.code
        # Every text the feed shows, looked up in one query.
        texts = [text for update in updates for text in (
            update.title, update.summary, update.organisation,
            *(name for _slug, name in update.topics))]
        lookup([segment for text in texts for segment in split(text, "text")]
               + [segment for update in updates for segment in split(update.body,
                                                                     "markdown")],
               language)

    def text(value: str) -> str:
        if language is None:
            return value
        return localise(value, "text", language, allow_machine=False).text

    def body(update: FeedEntry) -> str:
        if language is None:
            return rendered_body(update.body)
        return str(localise(update.body, "markdown", language, allow_machine=False).html)

    service_name = current_app.config["SERVICE_NAME"]
    self_link = _attribute(external_url("updates.feed", **args))
    latest = max((u.updated_at for u in updates), default=None) or utcnow()
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="',
        _attribute(language.code if language is not None else "en"), '">',
        "<id>", self_link, "</id>",
        "<title>", _text(f"{service_name}: updates" + (" (filtered)" if args else "")),
        "</title>",
        "<updated>", _date(latest), "</updated>",
        '<link href="', _attribute(external_url("updates.list_updates", **args)),
        '" rel="alternate"/>',
        '<link href="', self_link, '" rel="self"/>',
        "<subtitle>What patient data led to: updates from NHS organisations.</subtitle>",
    ]
    update_link = url_maker(external_url, "updates.update", "slug")
    categories: dict[tuple[str, str], str] = {}  # a few topics, on every entry

    def category(slug: str, name: str) -> str:
        element = categories.get((slug, name))
        if element is None:
            element = categories[slug, name] = (
                f'<category term="{_attribute(slug)}" label="{_attribute(text(name))}"/>')
        return element

    for update in updates:
        link = update_link(update.slug)
        parts += [
            "<entry>",
            "<id>", _text(link), "</id>",
            "<title>", _text(text(update.title)), "</title>",
            "<updated>", _date(update.updated_at), "</updated>",
            "<author><name>", _text(text(update.organisation)), "</name></author>",
            '<content type="html">', _text(body(update)), "</content>",
            '<link href="', _attribute(link), '"/>',
            "<summary>", _text(text(update.summary)), "</summary>",
        ]
        parts += [category(slug, name) for slug, name in update.topics]
        if update.published_at is not None:
            parts += ["<published>", _date(update.published_at), "</published>"]
        parts.append("</entry>")
    parts.append("</feed>")
    return "".join(parts).encode("utf-8")
