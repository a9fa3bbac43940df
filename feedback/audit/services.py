"""Recording and reading the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from feedback.audit.models import AuditEvent
from feedback.core.pagination import Page, paginate
from feedback.extensions import db


def record(
    action: str,
    *,
    actor: Any | None,
    organisation: Any | None = None,
    target: Any | None = None,
    summary: str = "",
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the current unit of work (the caller commits)."""
    if hasattr(target, "_get_current_object"):  # current_user: name the User, not the proxy
        target = target._get_current_object()
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        organisation_id=getattr(organisation, "id", None),
        target_type=type(target).__name__ if target is not None else None,
        target_id=getattr(target, "id", None),
        summary=summary[:300],
        details=details,
    )
    db.session.add(event)
    return event


def list_events(page: int = 1, organisation_id: int | None = None) -> Page:
    """Newest first, with actor and organisation loaded in the same query."""
    statement = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor), joinedload(AuditEvent.organisation))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if organisation_id is not None:
        statement = statement.where(AuditEvent.organisation_id == organisation_id)
    return paginate(statement, page, per_page=50)
