"""Audiences (the platform's digests and each partner's newsletter), the people on them,
the consent ledger and the suppression list."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import EMAIL_MAX, enum_column
from feedback.core.models import NOT_PERSONAL, UTCDateTime, personal, utcnow
from feedback.delivery.models import Queued, waiting_indexes
from feedback.extensions import db

if TYPE_CHECKING:
    from feedback.accounts.models import User
    from feedback.organisations.models import Organisation

NAME_MAX = 120
PERSONAL_SUBSCRIBER = personal(
    "Erased RETENTION_UNSUBSCRIBED_DAYS after unsubscribing; deleted with the row 7 days "
    "after a sign-up nobody confirmed; erased when the account with that address is deleted.")
INTRO_MAX = 5000
PHONE_MAX = 20


class Cadence(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


CADENCE_LABELS = {Cadence.WEEKLY: _l("Weekly"), Cadence.MONTHLY: _l("Monthly")}


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for double opt-in
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class ConsentAction(enum.StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    ATTESTED = "attested"  # a partner states it already holds consent
    PREFERENCES = "preferences"
    UNSUBSCRIBED = "unsubscribed"


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Audience(db.Model):
    """Who one series of editions goes to, and what it contains.

    Platform digests (``organisation_id`` is null) are keyed by their filter and cadence,
    so everyone who chose the same things shares one audience and one rendering per
    language. A partner's newsletter is an audience owned by that organisation."""

    __tablename__ = "audiences"
    __table_args__ = (UniqueConstraint("filter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), info=NOT_PERSONAL)
    intro: Mapped[str] = mapped_column(Text, default="")
    outro: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    organisation_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    cadence: Mapped[Cadence] = mapped_column(enum_column(Cadence, "cadence"),
                                             default=Cadence.WEEKLY)
    send_weekday: Mapped[int] = mapped_column(default=0)  # Monday
    send_hour: Mapped[int] = mapped_column(default=9)
    sender_name: Mapped[str] = mapped_column(String(NAME_MAX), default="", info=NOT_PERSONAL)
    paused: Mapped[bool] = mapped_column(default=False)
    send_when_empty: Mapped[bool] = mapped_column(default=False)
    # Unchecked machine translation is only emailed when the partner chooses it (labelled).
    allow_machine_translation: Mapped[bool] = mapped_column(default=False,
                                                            server_default=false())
    # Only platform audiences have one: "weekly|topics|areas|organisations".
    filter_key: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def is_platform(self) -> bool:
        return self.organisation_id is None


class Subscriber(db.Model):
    """One address on one audience. Nothing is sent until ``status`` is confirmed."""

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("audience_id", "email"),
                      Index("ix_subscribers_audience_status", "audience_id", "status"),
                      Index("ix_subscribers_phone", "phone"))

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"))
    # Null for someone who gets text messages only (``phone`` is then set), and once
    # erased (RETENTION_UNSUBSCRIBED_DAYS after unsubscribing, or when the account with
    # this address is deleted); the row stays for the consent ledger.
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), info=PERSONAL_SUBSCRIBER)
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="", info=PERSONAL_SUBSCRIBER)
    # A mobile number in E.164 (``feedback.core.validation.clean_phone``), or empty.
    phone: Mapped[str] = mapped_column(String(PHONE_MAX), default="", info=PERSONAL_SUBSCRIBER)
    language: Mapped[str] = mapped_column(String(16), default="en")
    status: Mapped[SubscriberStatus] = mapped_column(
        enum_column(SubscriberStatus, "subscriber_status"), default=SubscriberStatus.PENDING)
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audience: Mapped[Audience] = relationship()

    @property
    def is_confirmed(self) -> bool:
        return self.status == SubscriberStatus.CONFIRMED

    @property
    def is_erased(self) -> bool:
        """The address, name and phone are gone; the row stays for the consent ledger."""
        return self.email is None and not self.phone

    @property
    def sms_only(self) -> bool:
        """Reached by text message only: a mobile number and no email address."""
        return self.email is None and bool(self.phone)

    @property
    def address(self) -> str:
        """The address that identifies this person: the email address, else the number."""
        return self.email or self.phone


class ConsentRecord(db.Model):
    """The consent ledger: when, from where, under which wording and on which channel."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    action: Mapped[ConsentAction] = mapped_column(enum_column(ConsentAction, "consent_action"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "consent_channel"),
                                             default=Channel.EMAIL)
    source: Mapped[str] = mapped_column(String(200))  # a page path or "partner:<slug>"
    wording_version: Mapped[str] = mapped_column(String(40))
    basis: Mapped[str] = mapped_column(String(500), default="")
    attested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # Set when the subscriber's address is erased: the record stays, pseudonymous, and
    # can still be found from the address (feedback.core.addresses).
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriber: Mapped[Subscriber] = relationship()
    attested_by: Mapped[User | None] = relationship()


class Suppression(db.Model):
    """An address nothing more is sent to on its channel, after a permanent failure or a
    complaint: an email address (stops email) or a phone number in E.164 (stops text
    messages; a rejected number never stops email). Only the keyed hash of the address is
    kept (``feedback.core.addresses``), so it outlives the erasure of the address itself."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShortLinkPurpose(enum.StrEnum):
    EDITION = "edition"  # an edition's web version in one language
    UNSUBSCRIBE = "unsubscribe"  # one subscriber's unsubscribe page


class ShortLink(db.Model):
    """A short address (``/s/<code>``) for text messages, where every character costs.
    Each code does one thing: open one edition in one language, or unsubscribe one
    subscriber. Like every other token, only the code's SHA-256 is stored
    (``feedback.core.tokens.hash_token``); the code itself is made from the ``links``
    key (``feedback.subscriptions.sms.link_code``), 10 characters from 31 (49 bits), and
    names nobody. The confirmation link of a text message is the short confirmation token
    itself (``Subscriber.confirm_token_hash``)."""

    __tablename__ = "short_links"
    __table_args__ = (UniqueConstraint("code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    purpose: Mapped[ShortLinkPurpose] = mapped_column(
        enum_column(ShortLinkPurpose, "short_link_purpose"))
    edition_id: Mapped[int | None] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(16), default="")
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportStatus(enum.StrEnum):
    QUEUED = "queued"  # checked, waiting for the job
    RUNNING = "running"  # some chunks saved
    DONE = "done"


class ContactImport(db.Model):
    """A partner's CSV of contacts, checked in the request and then saved by a job in
    chunks (``feedback.subscriptions.services.run_pending_imports``). Each chunk's contacts,
    consent records and queued confirmation emails commit together with ``processed``, so
    a job that dies resumes where it stopped. The contacts themselves (``rows``) are
    erased once the import is done; the counts and problems stay for the report."""

    __tablename__ = "contact_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"),
                                             index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    attested: Mapped[bool] = mapped_column(default=False)
    basis: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus, "import_status"),
                                                 default=ImportStatus.QUEUED)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    problems: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)  # [line, reason]
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    already: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    audience: Mapped[Audience] = relationship()

    @property
    def is_done(self) -> bool:
        return self.status == ImportStatus.DONE


class Confirmation(Queued, db.Model):
    """A double opt-in email for a contact a partner imported: queued with the contact,
    sent by the delivery workers at the delivery rate. The link's token is made when it
    is sent (only its hash is kept, on the subscriber)."""

    __tablename__ = "subscription_confirmations"
    __table_args__ = (
        Index("ix_subscription_confirmations_claim", "status", "next_attempt_at"),
        *waiting_indexes("subscription_confirmations"),
    )

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), unique=True)

    subscriber: Mapped[Subscriber] = relationship()
