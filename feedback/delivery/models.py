"""The delivery outbox: one row per (edition, recipient, channel).

``Queued`` holds the columns every outbox row has (its state, attempts and the claim of
the worker sending it), so the worker's claim, retry and receipt code serves digests and
follower notifications (``feedback.notifications``) alike."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import enum_column
from feedback.core.models import UTCDateTime, utcnow
from feedback.digests.models import Edition
from feedback.extensions import db
from feedback.subscriptions.models import Channel, Subscriber


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; reclaimed when its lease runs out
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"
    CANCELLED = "cancelled"  # unsubscribed or suppressed before it went


class Queued:
    """Columns of a row a delivery worker claims, sends and retries."""

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    provider_id: Mapped[str | None] = mapped_column(String(64))
    receipt_status: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Queued, db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id", "channel"),
        Index("ix_deliveries_claim", "status", "next_attempt_at"),
    )

    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"),
                                            index=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "delivery_channel"),
                                             default=Channel.EMAIL)

    edition: Mapped[Edition] = relationship()
    subscriber: Mapped[Subscriber] = relationship()


class Confirmation(Queued, db.Model):
    """A double opt-in email for a contact a partner imported: queued with the contact,
    sent by the delivery workers at the delivery rate. The link's token is made when it
    is sent (only its hash is kept, on the subscriber)."""

    __tablename__ = "subscription_confirmations"
    __table_args__ = (Index("ix_subscription_confirmations_claim", "status",
                            "next_attempt_at"),)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), unique=True)

    subscriber: Mapped[Subscriber] = relationship()
