"""The notification queue: one row per (kind, subject, recipient)."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import User, enum_column
from feedback.delivery.models import Queued, waiting_indexes
from feedback.extensions import db


class NotificationKind(enum.StrEnum):
    NEW_UPDATE = "new_update"  # subject: an update; to followers of what it is about
    PRIORITY_UPDATE = "priority_update"  # subject: an update; to its priority's followers
    PRIORITY_RESPONSE = "priority_response"  # subject: a priority; to its followers


class Notification(Queued, db.Model):
    """One email to one signed-up person about one event, rendered in their language when
    it is sent. The unique constraint means nobody is queued twice for one event.
    ``created_at`` is when it was (last) queued."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("kind", "subject_id", "user_id"),
        Index("ix_notifications_claim", "status", "next_attempt_at"),
        *waiting_indexes("notifications"),
    )

    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind,
                                                               "notification_kind"))
    subject_id: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)

    user: Mapped[User] = relationship()
