"""Atom feeds of published updates (feedgen), for any filtered list."""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.feed import FeedGenerator
from flask import current_app

from feedback.core.urls import external_url
from feedback.updates.models import Update
from feedback.updates.services import UpdateFilters, rendered_body


def atom_feed(updates: Sequence[Update], filters: UpdateFilters) -> bytes:
    """An Atom document of ``updates`` (newest first). Text is escaped by feedgen; the
    body is the sanitised Markdown rendering, sent as escaped HTML content."""
    args = filters.as_args()
    service_name = current_app.config["SERVICE_NAME"]
    generator = FeedGenerator()
    generator.id(external_url("updates.feed", **args))
    generator.title(f"{service_name}: updates" + (" (filtered)" if args else ""))
    generator.link(href=external_url("updates.list_updates", **args), rel="alternate")
    generator.link(href=external_url("updates.feed", **args), rel="self")
    generator.language("en")
    generator.subtitle("What patient data led to: updates from NHS organisations.")
    latest = max((u.updated_at for u in updates), default=None)
    if latest is not None:
        generator.updated(latest)
    for update in reversed(updates):  # feedgen prepends each entry
        entry = generator.add_entry()
        link = external_url("updates.update", slug=update.slug)
        entry.id(link)
        entry.title(update.title)
        entry.link(href=link)
        entry.summary(update.summary)
        entry.content(rendered_body(update.body), type="html")
        entry.published(update.published_at)
        entry.updated(update.updated_at)
        entry.author(name=update.organisation.name)
        for term in update.topics:
            entry.category(term=term.slug, label=term.name)
    return generator.atom_str(pretty=False)
