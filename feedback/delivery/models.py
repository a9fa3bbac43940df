"""What every outbox row has in common.

``Queued`` holds the columns every outbox row has (its state, attempts and the claim of
the worker sending it), so the worker's claim, retry and receipt code serves each
domain's outbox alike: digest rows (``feedback.digests.models.Delivery``), follower
notifications (``feedback.notifications.models.Notification``) and confirmation requests
(``feedback.subscriptions.models.Confirmation``). Each domain keeps its own table."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ColumnElement, Index, String, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from feedback.accounts.models import enum_column
from feedback.core.models import UTCDateTime, utcnow


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; reclaimed when its lease runs out
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"
    CANCELLED = "cancelled"  # unsubscribed or suppressed before it went


WAITING = "status = 'pending'"
SENDING = "status = 'sending'"


def literal_status(status: DeliveryStatus) -> ColumnElement:
    """A status written into the SQL, not bound: PostgreSQL can then use the partial
    indexes (``WAITING``, ``ix_deliveries_claimed``) even in a prepared statement's
    generic plan."""
    return literal_column(f"'{status.value}'")


def waiting_indexes(table: str) -> tuple[Index, Index]:
    """The waiting rows of an outbox table, in id order and by attempts: partial indexes,
    which hold no row already sent, so a worker's claim need not read past them. (With
    statistics saying nearly every row waits, as just after an edition starts,
    PostgreSQL may still prefer to scan and sort.)"""
    where = {"postgresql_where": text(WAITING), "sqlite_where": text(WAITING)}
    return (Index(f"ix_{table}_waiting", "id", **where),
            Index(f"ix_{table}_waiting_attempts", "attempts", **where))


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
