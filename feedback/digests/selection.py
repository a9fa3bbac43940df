"""What goes into an edition: published updates since the last edition that match the
audience's filters, plus priority-round news (voting open, results, responses).

A source is a function ``(since, until) -> list[dict]``. Each item is plain data:
``kind``, ``id``, ``title``, ``summary``, ``url``, ``published_at`` (ISO), ``organisation``
(name), ``organisation_id``, ``topics``, ``areas``, ``language`` and ``priority`` (True for
round news, which every audience gets). Other domains add sources by appending to
``app.extensions["feedback_digest_sources"]``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from datetime import datetime

from flask import current_app

log = logging.getLogger(__name__)

Source = Callable[[datetime | None, datetime], list[dict]]

# (source, the domain it needs): each is used when that domain is installed.
OPTIONAL_SOURCES = (
    ("feedback.digests.sources:published_updates", "feedback.updates"),
    ("feedback.digests.priority_news:round_news", "feedback.priorities"),
)


def digest_sources() -> list[Source]:
    sources: list[Source] = []
    for path, domain in OPTIONAL_SOURCES:
        if importlib.util.find_spec(domain) is None:
            continue
        module_name, _, name = path.partition(":")
        sources.append(getattr(importlib.import_module(module_name), name))
    sources.extend(current_app.extensions.get("feedback_digest_sources", []))
    return sources


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
