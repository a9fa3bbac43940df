"""Editions, their rendered language versions, and the outbox rows that send them."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import enum_column
from feedback.core.models import UTCDateTime, utcnow
from feedback.delivery.models import SENDING, WAITING, Queued, waiting_indexes
from feedback.extensions import db
from feedback.subscriptions.models import Audience, Channel, Subscriber


class EditionStatus(enum.StrEnum):
    DRAFT = "draft"  # selected and rendered; can still be re-rendered
    SENDING = "sending"  # frozen: the outbox rows exist
    PAUSED = "paused"
    SENT = "sent"
    SKIPPED = "skipped"  # nothing to say, and the audience did not ask for empty editions

    @property
    def label(self) -> str:
        """The status in the reader's language."""
        return str(EDITION_STATUS_LABELS[self])


EDITION_STATUS_LABELS = {
    EditionStatus.DRAFT: _l("Draft"), EditionStatus.SENDING: _l("Sending"),
    EditionStatus.PAUSED: _l("Paused"), EditionStatus.SENT: _l("Sent"),
    EditionStatus.SKIPPED: _l("Skipped: nothing new"),
}


class Edition(db.Model):
    """One issue of an audience's digest for one period (for example ``2026-W47``)."""

    __tablename__ = "editions"
    __table_args__ = (UniqueConstraint("audience_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(20))
    status: Mapped[EditionStatus] = mapped_column(enum_column(EditionStatus, "edition_status"),
                                                  default=EditionStatus.DRAFT)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    # The selected items, as plain data, so the edition never changes after freezing.
    items: Mapped[list[dict]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audience: Mapped[Audience] = relationship()
    versions: Mapped[list[EditionVersion]] = relationship(
        back_populates="edition", cascade="all, delete-orphan",
        order_by="EditionVersion.language")

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    def version(self, language: str) -> EditionVersion | None:
        return next((v for v in self.versions if v.language == language), None)


class EditionVersion(db.Model):
    """An edition rendered once in one language. ``html`` and ``text`` hold placeholders
    for the only things that differ per recipient: their name and their signed links."""

    __tablename__ = "edition_versions"
    __table_args__ = (UniqueConstraint("edition_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    greetings: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    missing_translations: Mapped[list[dict | str]] = mapped_column(JSON, default=list)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    edition: Mapped[Edition] = relationship(back_populates="versions")


class Delivery(Queued, db.Model):
    """The digest outbox: one row per (edition, recipient, channel), sent by the delivery
    workers (``feedback.digests.sending``)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id", "channel"),
        Index("ix_deliveries_claim", "status", "next_attempt_at"),
        *waiting_indexes("deliveries"),
        # Each sending edition's waiting rows in id order: a claim walks one edition's
        # rows from its first waiting one (``DigestQueue.claim_scopes``).
        Index("ix_deliveries_edition_waiting", "edition_id", "id",
              postgresql_where=text(WAITING), sqlite_where=text(WAITING)),
        # The rows being sent, by claim: loading a claimed batch reads only its own rows.
        Index("ix_deliveries_claimed", "claim_token",
              postgresql_where=text(SENDING), sqlite_where=text(SENDING)),
    )

    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"),
                                            index=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "delivery_channel"),
                                             default=Channel.EMAIL)

    edition: Mapped[Edition] = relationship()
    subscriber: Mapped[Subscriber] = relationship()
