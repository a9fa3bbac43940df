"""The built-in digest source: updates published in the edition's window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from feedback.core.urls import external_url
from feedback.extensions import db
from feedback.updates.models import Update, UpdateStatus
from feedback.updates.services import list_options

MAX_ITEMS = 50


def published_updates(since: datetime | None, until: datetime) -> list[dict]:
    """Published updates with ``since < published_at <= until``, as digest items."""
    statement = (select(Update).options(*list_options())
                 .where(Update.status == UpdateStatus.PUBLISHED,
                        Update.published_at <= until)
                 .order_by(Update.published_at.desc()).limit(MAX_ITEMS))
    if since is not None:
        statement = statement.where(Update.published_at > since)
    return [{
        "kind": "update", "id": update.id, "title": update.title, "summary": update.summary,
        "url": external_url("updates.update", slug=update.slug),
        "published_at": update.published_at.isoformat() if update.published_at else "",
        "organisation": update.organisation.name, "organisation_id": update.organisation_id,
        "topics": [term.slug for term in update.topics],
        "areas": [term.slug for term in update.areas],
        "language": "en", "priority": False,
    } for update in db.session.scalars(statement)]
