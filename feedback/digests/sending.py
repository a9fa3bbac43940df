"""Sending digests and newsletters: starting and steering an edition, and the delivery
worker's queue of its rows (one per edition, subscriber and channel).

Starting an edition freezes it and writes its outbox rows in one ``INSERT … SELECT``.
The worker (``feedback.delivery``) claims them; this queue renders each edition once per
language (``feedback.digests.rendering``), personalises it per recipient, and marks the
edition sent when nothing is left."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from feedback.core.addresses import address_hash_sql
from feedback.core.mail import mailbox
from feedback.core.models import utcnow
from feedback.core.urls import base_url
from feedback.delivery.channels import Outgoing
from feedback.delivery.mime import Skeleton
from feedback.delivery.models import DeliveryStatus, literal_status
from feedback.delivery.queues import Queue, domain, https
from feedback.digests.models import Delivery, Edition, EditionStatus
from feedback.digests.rendering import personalise
from feedback.extensions import db
from feedback.subscriptions import services as subscriptions
from feedback.subscriptions.models import Channel, Subscriber, SubscriberStatus, Suppression

# Who is still wanted, for a batch of rows in one round trip: still confirmed, and the
# channel's address not suppressed (a rejected phone number stops text messages only, a
# rejected email address email only).
_deliveries, _subscribers = Delivery.__table__, Subscriber.__table__
STILL_WANTED = (
    select(_deliveries.c.id)
    .join(_subscribers, _subscribers.c.id == _deliveries.c.subscriber_id)
    .where(_deliveries.c.id.in_(bindparam("ids", expanding=True)),
           _subscribers.c.status == SubscriberStatus.CONFIRMED,
           ~exists().where(Suppression.__table__.c.address_hash == address_hash_sql(case(
               (_deliveries.c.channel == Channel.SMS, _subscribers.c.phone),
               else_=_subscribers.c.email)))))


# Starting and steering editions ------------------------------------------------------

def start_edition(edition: Edition) -> int:
    """Freeze the edition and write one outbox row per confirmed, unsuppressed recipient
    and channel, in the caller's transaction. Returns the number of rows."""
    if edition.is_frozen:
        return 0
    now = utcnow()
    edition.frozen_at = now
    edition.status = EditionStatus.SENDING
    db.session.flush()
    recipients = (Subscriber.audience_id == edition.audience_id,
                  Subscriber.status == SubscriberStatus.CONFIRMED)
    columns = ["edition_id", "subscriber_id", "channel", "status", "attempts",
               "next_attempt_at", "last_error", "created_at"]
    channels = [Channel.EMAIL]
    if current_app.config["DELIVERY_CHANNEL"] == "notify" and \
            current_app.config["NOTIFY_SMS_TEMPLATE_ID"]:
        channels.append(Channel.SMS)
    total = 0
    for channel in channels:
        address = Subscriber.phone if channel == Channel.SMS else Subscriber.email
        conditions = (*recipients, address != "",
                      ~exists().where(Suppression.address_hash == address_hash_sql(address)))
        rows = select(literal(edition.id), Subscriber.id, literal(channel.value),
                      literal(DeliveryStatus.PENDING.value), literal(0),
                      literal(now, Delivery.next_attempt_at.type), literal(""),
                      literal(now, Delivery.created_at.type)).where(*conditions)
        result = db.session.execute(insert(Delivery).from_select(columns, rows))
        total += result.rowcount or 0
    db.session.flush()
    return total


def pause(edition: Edition) -> None:
    if edition.status == EditionStatus.SENDING:
        edition.status = EditionStatus.PAUSED
        db.session.flush()


def resume(edition: Edition) -> None:
    if edition.status == EditionStatus.PAUSED:
        edition.status = EditionStatus.SENDING
        db.session.flush()


@dataclass
class Progress:
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0
    cancelled: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.cancelled


def progress(edition_id: int) -> Progress:
    rows = db.session.execute(select(Delivery.status, func.count()).where(
        Delivery.edition_id == edition_id).group_by(Delivery.status)).all()
    counts = {status: n for status, n in rows}
    return Progress(
        recipients=sum(counts.values()),
        sent=counts.get(DeliveryStatus.SENT, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0),
        cancelled=counts.get(DeliveryStatus.CANCELLED, 0),
        pending=counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0),
    )


def active_editions(limit: int = 50):
    return db.session.scalars(select(Edition).where(Edition.frozen_at.is_not(None),
                                                    Edition.status != EditionStatus.SKIPPED)
                              .order_by(Edition.frozen_at.desc()).limit(limit)).all()


# Sending -----------------------------------------------------------------------------

def message_id(delivery_edition_id: int, subscriber_id: int, channel: str) -> str:
    """The same Message-ID every time this recipient is sent this edition."""
    host = domain(base_url())
    return f"<digest.{delivery_edition_id}.{subscriber_id}.{channel}@{host}>"


class DigestQueue(Queue):
    """Digest and newsletter editions: one row per (edition, subscriber, channel). Notify
    receipts name a row by its id alone."""

    model = Delivery
    reference_prefix = ""

    def __init__(self, worker):
        super().__init__(worker)
        self._versions: dict[int, dict] = {}
        self._links = subscriptions.links_maker()

    @staticmethod
    def claimable(statement: Select) -> Select:
        return statement.join(Edition, Edition.id == Delivery.edition_id).where(
            Edition.status == EditionStatus.SENDING)

    @classmethod
    def claim_scopes(cls) -> list[ColumnElement[bool]]:
        """One sending edition at a time, oldest first: its waiting rows, in id order,
        are one index's (``ix_deliveries_edition_waiting``), which PostgreSQL walks only
        as far as the rows it takes. Claiming all editions at once, it may estimate the
        join wrongly (as just after a large edition starts) and sort every waiting row."""
        editions = db.session.scalars(select(Edition.id).where(
            Edition.status == EditionStatus.SENDING).order_by(Edition.id))
        return [Delivery.edition_id == edition_id for edition_id in editions]

    def claimed(self, token: str) -> Sequence[Row]:
        return db.session.execute(
            select(Delivery.id, Delivery.edition_id, Delivery.subscriber_id, Delivery.channel,
                   Delivery.attempts, Subscriber.email, Subscriber.name, Subscriber.phone,
                   Subscriber.language, Subscriber.created_at.label("subscribed_at"))
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.claim_token == token,
                   Delivery.status == literal_status(DeliveryStatus.SENDING))
            .order_by(Delivery.id)).all()

    def _edition(self, edition_id: int) -> dict:
        """An edition's frozen versions and headers, loaded once per worker."""
        cached = self._versions.get(edition_id)
        if cached is None:
            edition = db.session.get(Edition, edition_id)
            audience = edition.audience
            sender = parseaddr(current_app.config["MAIL_FROM"])
            sender_name = audience.sender_name or sender[0]
            list_id = f"{audience.name} <audience-{audience.id}.{domain(self.worker.base_url)}>"
            cached = {
                "versions": {v.language: v for v in edition.versions},
                "skeletons": {v.language: Skeleton([
                    ("From", mailbox(sender_name, sender[1])), ("Subject", v.subject),
                    ("List-Id", list_id), ("Content-Language", v.language)])
                    for v in edition.versions},
                "envelope_from": sender[1],
                "audience": audience,
                "from": mailbox(sender_name, sender[1]),
                "list_id": list_id,
                "id": edition.id,
            }
            for version in cached["versions"].values():
                db.session.expunge(version)
            self._versions[edition_id] = cached
        return cached

    def still_wanted(self, rows: Sequence[Row]) -> set[int]:
        """Checked for each batch as it is claimed: an unsubscribe or suppression stops
        every batch claimed after it (``Worker``)."""
        ids = [row.id for row in rows]
        return set(db.session.connection().execute(STILL_WANTED, {"ids": ids}).scalars())

    def outgoing(self, row: Row) -> Outgoing:
        edition = self._edition(row.edition_id)
        versions = edition["versions"]
        language = subscriptions.recipient_language(edition["audience"], row.language)
        if language not in versions:  # the site's languages changed after rendering
            language = "en" if "en" in versions else next(iter(versions))
        version = versions[language]
        links = self._links(row.subscriber_id)
        html, text = personalise(version, row.name, links)
        sms = row.channel == Channel.SMS
        if sms:
            text = self._sms_text(edition, language, row.subscriber_id, row.subscribed_at)
        identifier = message_id(row.edition_id, row.subscriber_id, row.channel.value)
        unsubscribe = https(links["unsubscribe"])
        return Outgoing(
            delivery_id=row.id, to=row.email, subject=version.subject, text=text,
            html=None if sms else html, phone=row.phone, sms=sms,
            message_id=identifier, unsubscribe_url=unsubscribe,
            raw=None if sms else edition["skeletons"][language].message(
                to=row.email, message_id=identifier, unsubscribe_url=unsubscribe, text=text,
                html=html),
            envelope_from=edition["envelope_from"],
            headers={
                "List-Unsubscribe": f"<{https(links['unsubscribe'])}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": edition["list_id"],
                "Content-Language": language,
            },
            extra={"from": edition["from"]},
        )

    @staticmethod
    def _sms_text(edition: dict, language: str, subscriber_id: int,
                  subscribed_at: datetime) -> str:
        """The edition as a short text message: rendered once per language, with this
        recipient's short unsubscribe link (``feedback.digests.sms``)."""
        from feedback.digests.sms import personalise_sms, sms_text
        from feedback.subscriptions import sms

        texts = edition.setdefault("sms", {})
        if language not in texts:
            texts[language] = sms_text(db.session.get(Edition, edition["id"]), language,
                                       sms.edition_link(edition["id"], language))
        return personalise_sms(texts[language], sms.unsubscribe_link(subscriber_id,
                                                                     subscribed_at))

    def permanent_failure(self, row: Row, reason: str) -> None:
        subscriptions.suppress(subscriptions.channel_address(row.channel, row.email,
                                                             row.phone), reason)

    @classmethod
    def receipt_failure(cls, record: Delivery, reason: str) -> None:
        subscriptions.suppress(subscriptions.channel_address(
            record.channel, record.subscriber.email, record.subscriber.phone), reason)

    def finish(self, rows: Sequence[Row]) -> None:
        """Mark editions with nothing left to send as sent."""
        for edition_id in {row.edition_id for row in rows}:
            # One test per status, each of which a partial index answers at once.
            open_rows = or_(*(exists().where(Delivery.edition_id == edition_id,
                                             Delivery.status == literal_status(status))
                              for status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)))
            db.session.execute(update(Edition).where(
                Edition.id == edition_id, Edition.status == EditionStatus.SENDING, ~open_rows)
                .values(status=EditionStatus.SENT, finished_at=utcnow())
                .execution_options(synchronize_session=False))
