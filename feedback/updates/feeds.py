"""Atom feeds of published updates (feedgen), for any filtered list."""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.feed import FeedGenerator
from flask import current_app

from feedback.core.languages import Language
from feedback.core.urls import external_url, url_maker
from feedback.translation.display import localise, lookup
from feedback.translation.segments import split
from feedback.updates.services import FeedEntry, UpdateFilters, rendered_body


def atom_feed(updates: Sequence[FeedEntry], filters: UpdateFilters,
              language: Language | None = None) -> bytes:
    """An Atom document of ``updates`` (newest first, from ``feed_entries``). Text is
    escaped by feedgen; the body is the sanitised Markdown rendering, sent as escaped
    HTML content.

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
    generator = FeedGenerator()
    generator.id(external_url("updates.feed", **args))
    generator.title(f"{service_name}: updates" + (" (filtered)" if args else ""))
    generator.link(href=external_url("updates.list_updates", **args), rel="alternate")
    generator.link(href=external_url("updates.feed", **args), rel="self")
    generator.language(language.code if language is not None else "en")
    generator.subtitle("What patient data led to: updates from NHS organisations.")
    latest = max((u.updated_at for u in updates), default=None)
    if latest is not None:
        generator.updated(latest)
    update_link = url_maker(external_url, "updates.update", "slug")
    for update in reversed(updates):  # feedgen prepends each entry
        entry = generator.add_entry()
        link = update_link(update.slug)
        entry.id(link)
        entry.title(text(update.title))
        entry.link(href=link)
        entry.summary(text(update.summary))
        entry.content(body(update), type="html")
        entry.published(update.published_at)
        entry.updated(update.updated_at)
        entry.author(name=text(update.organisation))
        for slug, name in update.topics:
            entry.category(term=slug, label=text(name))
    return generator.atom_str(pretty=False)
