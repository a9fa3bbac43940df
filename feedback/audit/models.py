from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.core.models import UTCDateTime, utcnow
from feedback.extensions import db

if TYPE_CHECKING:
    from feedback.accounts.models import User
    from feedback.organisations.models import Organisation


class AuditEvent(db.Model):
    """One admin or organisation action. Holds ids and names, never email addresses."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_organisation_created", "organisation_id",
                            "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(String(300), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
