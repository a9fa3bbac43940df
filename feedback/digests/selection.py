"""What goes into an edition: published updates since the last edition that match the
audience's filters, plus priority-round news (voting open, results, responses).

A source is a function ``(since, until) -> list[dict]``. Each item is plain data:
``kind``, ``id``, ``title``, ``summary``, ``url``, ``published_at`` (ISO), ``organisation``
(name), ``organisation_id``, ``topics``, ``areas``, ``language`` and ``priority`` (True for
round news, which every audience gets). Other domains add sources by appending to
``app.extensions["feedback_digest_sources"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import current_app

from feedback.digests.priority_news import round_news
from feedback.digests.sources import published_updates

log = logging.getLogger(__name__)

Source = Callable[[datetime | None, datetime], list[dict]]

BUILT_IN_SOURCES: tuple[Source, ...] = (published_updates, round_news)


def digest_sources() -> list[Source]:
    return [*BUILT_IN_SOURCES, *current_app.extensions.get("feedback_digest_sources", [])]


def matches(audience, item: dict) -> bool:
    """Round news goes to everyone; updates must match every filter the audience set."""
    if item.get("priority"):
        return True
    if audience.topics and not set(audience.topics) & set(item.get("topics") or []):
        return False
    if audience.areas and not set(audience.areas) & set(item.get("areas") or []):
        return False
    return not (audience.organisation_ids
                and item.get("organisation_id") not in audience.organisation_ids)


def select_items(audience, since: datetime | None, until: datetime) -> list[dict]:
    """The items for one edition, newest first, round news at the top."""
    items: list[dict] = []
    seen: set[tuple] = set()
    for source in digest_sources():
        for item in source(since, until):
            key = (item.get("kind"), item.get("id"))
            if key in seen or not matches(audience, item):
                continue
            seen.add(key)
            items.append(item)
    items.sort(key=lambda item: item.get("published_at") or "", reverse=True)
    items.sort(key=lambda item: not item.get("priority"))
    return items
