"""Translation memory, translator grants and provider usage."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import User, enum_column
from feedback.core.models import UTCDateTime, utcnow
from feedback.extensions import db


class SegmentStatus(enum.StrEnum):
    PENDING = "pending"  # queued: no text yet (a provider or a person will write it)
    MACHINE_DRAFT = "machine_draft"  # a provider's text nobody has checked
    NEEDS_REVIEW = "needs_review"  # a person's draft, waiting for a translator to approve
    APPROVED = "approved"  # checked by a translator, who is recorded


STATUS_LABELS = {
    SegmentStatus.PENDING: _l("Waiting for translation"),
    SegmentStatus.MACHINE_DRAFT: _l("Machine draft"),
    SegmentStatus.NEEDS_REVIEW: _l("Needs review"),
    SegmentStatus.APPROVED: _l("Approved"),
}

HUMAN_ORIGIN = "person"


class TranslationSegment(db.Model):
    """One segment of source text in one target language: the translation memory.

    Keyed by the SHA-256 of the source segment, so the same text is translated once
    wherever it appears, and an edit to the source makes new keys only for the segments
    that changed.
    """

    __tablename__ = "translation_segments"
    __table_args__ = (
        UniqueConstraint("source_hash", "source_language", "target_language"),
        Index("ix_translation_segments_queue", "target_language", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_hash: Mapped[str] = mapped_column(String(64))
    source_language: Mapped[str] = mapped_column(String(16))
    target_language: Mapped[str] = mapped_column(String(16))
    source_text: Mapped[str] = mapped_column(Text)
    text_format: Mapped[str] = mapped_column(String(10), default="text")  # text or html
    text: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(String(30))  # provider name, or "person"
    status: Mapped[SegmentStatus] = mapped_column(
        enum_column(SegmentStatus, "segment_status"), default=SegmentStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    translated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                  ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    edited_by: Mapped[User | None] = relationship(foreign_keys=[edited_by_id])

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def is_machine(self) -> bool:
        return self.status == SegmentStatus.MACHINE_DRAFT


class SegmentOwner(db.Model):
    """An organisation whose content contains a source segment: its translators may
    review that segment. ``organisation_id`` is empty for platform content (topics,
    shared pages), which needs a translator granted by the platform admin.

    Keyed by source hash, not by row: ownership holds in every target language, and the
    same sentence in two organisations' content has two owners.
    """

    __tablename__ = "translation_segment_owners"
    __table_args__ = (UniqueConstraint("source_hash", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_hash: Mapped[str] = mapped_column(String(64), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


class TranslatorGrant(db.Model):
    """An org admin lets one of their organisation's people review translations of that
    organisation's content into a language. A grant with no organisation is the platform
    admin's, for platform content."""

    __tablename__ = "translator_grants"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ProviderUsage(db.Model):
    """Characters and calls sent to one provider in one calendar month (UTC)."""

    __tablename__ = "translation_provider_usage"
    __table_args__ = (UniqueConstraint("provider", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(30))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    characters: Mapped[int] = mapped_column(default=0)
    calls: Mapped[int] = mapped_column(default=0)
    budget_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Back-off after 429 or 5xx: consecutive failures, and no calls before this time.
    failures: Mapped[int] = mapped_column(default=0)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
