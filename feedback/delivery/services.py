"""The outbox: starting an edition, claiming rows, sending, retrying, receipts, progress.

The worker sends three queues with the same claim, retry and receipt code: digest and
newsletter rows (``Delivery``), follower notifications (``feedback.notifications``,
queued when an update or a priority response is published) and confirmation emails for
contacts a partner imported (``Confirmation``, ``feedback.subscriptions.sending``).

Delivery guarantee. A row is marked ``sent`` only after the provider accepted the
message, and sent marks are committed once per claimed batch. A worker killed mid-batch
therefore leaves at most ``DELIVERY_BATCH_SIZE`` accepted-but-unrecorded rows, which are
claimed again when their lease runs out: nobody is missed, and duplicates are at most
``DELIVERY_BATCH_SIZE`` per killed worker. Each message's Message-ID is deterministic, so
a receiving system can also recognise a repeat.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import (
    Row,
    Select,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from feedback.core.addresses import address_hash_sql
from feedback.core.mail import mailbox
from feedback.core.models import utcnow
from feedback.core.urls import base_url
from feedback.delivery.channels import (
    BackOff,
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
    open_channel,
)
from feedback.delivery.mime import Skeleton
from feedback.delivery.models import Confirmation, Delivery, DeliveryStatus, Queued
from feedback.digests.models import Edition, EditionStatus
from feedback.digests.rendering import personalise
from feedback.extensions import db
from feedback.subscriptions import services as subscriptions
from feedback.subscriptions.models import Channel, Subscriber, SubscriberStatus, Suppression

log = logging.getLogger(__name__)

# One round trip per message: still confirmed, and the channel's address not suppressed
# (a rejected phone number stops text messages only, a rejected email address email only).
def _still_wanted(address) -> Select:
    return select(Subscriber.id).where(
        Subscriber.id == bindparam("id"), Subscriber.status == SubscriberStatus.CONFIRMED,
        ~exists().where(Suppression.address_hash == address_hash_sql(address)))


STILL_WANTED = _still_wanted(Subscriber.email)
STILL_WANTED_SMS = _still_wanted(Subscriber.phone)


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


# Claiming ----------------------------------------------------------------------------

def _due(model: type[Queued], now: datetime):
    """Rows waiting and past their retry time, or claimed by a worker whose lease has run
    out (it died)."""
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    return or_(and_(model.status == DeliveryStatus.PENDING, model.next_attempt_at <= now),
               and_(model.status == DeliveryStatus.SENDING, model.claimed_at < now - lease))


def claim_batch(limit: int, now: datetime | None = None,
                queue: type[Queue] | None = None) -> str | None:
    """Claim up to ``limit`` due rows of one queue (digests unless told) for this worker
    and commit. PostgreSQL uses ``FOR UPDATE SKIP LOCKED`` so workers never wait for each
    other; SQLite runs the single UPDATE under its database write lock, which is just as
    exclusive. Rows whose worker died are claimed again once their lease has run out, but
    never once they have had ``DELIVERY_MAX_ATTEMPTS`` (``give_up_exhausted`` fails
    those): a row that kills every worker that sends it cannot hold the queue up."""
    queue = queue or DigestQueue
    model = queue.model
    now = now or utcnow()
    token = uuid.uuid4().hex
    due = (queue.claimable(select(model.id)).where(
        _due(model, now), model.attempts < current_app.config["DELIVERY_MAX_ATTEMPTS"])
        .order_by(model.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=model)
    result = db.session.execute(
        update(model).where(model.id.in_(due.scalar_subquery()))
        .values(status=DeliveryStatus.SENDING, claim_token=token, claimed_at=now,
                attempts=model.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if result.rowcount else None


def give_up_exhausted(queue: type[Queue], now: datetime | None = None) -> list[Row]:
    """Mark failed the due rows of ``queue`` that have had every attempt (their worker died
    sending them each time), in the caller's transaction. Returns them (``id`` and the
    queue's other columns) so their editions can be finished."""
    model = queue.model
    now = now or utcnow()
    ids = db.session.scalars(queue.claimable(select(model.id)).where(
        _due(model, now), model.attempts >= current_app.config["DELIVERY_MAX_ATTEMPTS"])
    ).all()
    if not ids:
        return []
    db.session.execute(update(model).where(model.id.in_(ids), _due(model, now)).values(
        status=DeliveryStatus.FAILED, claim_token=None,
        last_error="gave up: every attempt stopped before it finished")
        .execution_options(synchronize_session=False))
    return db.session.execute(select(*model.__table__.c).where(model.id.in_(ids))).all()


# Sending -----------------------------------------------------------------------------

class RateLimiter:
    """At most ``per_second`` messages a second from this worker (0: no limit)."""

    def __init__(self, per_second: int):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.interval


def domain(url: str) -> str:
    return (urlsplit(url).hostname or "localhost").lower()


def message_id(delivery_edition_id: int, subscriber_id: int, channel: str) -> str:
    """The same Message-ID every time this recipient is sent this edition."""
    host = domain(base_url())
    return f"<digest.{delivery_edition_id}.{subscriber_id}.{channel}@{host}>"


def https(url: str) -> str:
    """List-Unsubscribe must be https (RFC 8058)."""
    return "https://" + url.split("://", 1)[1] if url.startswith("http://") else url


class Queue:
    """One table of outbox rows that the worker sends. A subclass says which rows may be
    claimed, loads a claimed batch (rows with ``id``, ``attempts`` and ``email``), checks
    each is still wanted just before sending, and renders it."""

    model: type[Queued]

    def __init__(self, worker: Worker):
        self.worker = worker

    @staticmethod
    def claimable(statement: Select) -> Select:
        return statement

    def claimed(self, token: str) -> Sequence[Row]:
        raise NotImplementedError

    def still_wanted(self, row: Row) -> bool:
        raise NotImplementedError

    def outgoing(self, row: Row) -> Outgoing:
        raise NotImplementedError

    def finish(self, rows: Sequence[Row]) -> None:
        """After each batch, in its transaction."""


class DigestQueue(Queue):
    """Digest and newsletter editions: one row per (edition, subscriber, channel)."""

    model = Delivery

    def __init__(self, worker: Worker):
        super().__init__(worker)
        self._versions: dict[int, dict] = {}

    @staticmethod
    def claimable(statement: Select) -> Select:
        return statement.join(Edition, Edition.id == Delivery.edition_id).where(
            Edition.status == EditionStatus.SENDING)

    def claimed(self, token: str) -> Sequence[Row]:
        return db.session.execute(
            select(Delivery.id, Delivery.edition_id, Delivery.subscriber_id, Delivery.channel,
                   Delivery.attempts, Subscriber.email, Subscriber.name, Subscriber.phone,
                   Subscriber.language)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.claim_token == token).order_by(Delivery.id)).all()

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

    def still_wanted(self, row: Row) -> bool:
        """Checked just before each send: an unsubscribe or suppression wins at once."""
        statement = STILL_WANTED_SMS if row.channel == Channel.SMS else STILL_WANTED
        return bool(db.session.execute(statement, {"id": row.subscriber_id}).scalar())

    def outgoing(self, row: Row) -> Outgoing:
        edition = self._edition(row.edition_id)
        versions = edition["versions"]
        language = subscriptions.recipient_language(edition["audience"], row.language)
        if language not in versions:  # the site's languages changed after rendering
            language = "en" if "en" in versions else next(iter(versions))
        version = versions[language]
        links = subscriptions.links_for(row.subscriber_id)
        html, text = personalise(version, row.name, links)
        sms = row.channel == Channel.SMS
        if sms:
            text = self._sms_text(edition, language, row.subscriber_id)
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
    def _sms_text(edition: dict, language: str, subscriber_id: int) -> str:
        """The edition as a short text message: rendered once per language, with this
        recipient's short unsubscribe link (``feedback.digests.sms``)."""
        from feedback.digests.sms import personalise_sms, sms_text
        from feedback.subscriptions import sms

        texts = edition.setdefault("sms", {})
        if language not in texts:
            texts[language] = sms_text(db.session.get(Edition, edition["id"]), language,
                                       sms.edition_link(edition["id"], language))
        return personalise_sms(texts[language], sms.unsubscribe_link(subscriber_id))

    def finish(self, rows: Sequence[Row]) -> None:
        """Mark editions with nothing left to send as sent."""
        for edition_id in {row.edition_id for row in rows}:
            open_rows = exists().where(Delivery.edition_id == edition_id, Delivery.status.in_(
                [DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
            db.session.execute(update(Edition).where(
                Edition.id == edition_id, Edition.status == EditionStatus.SENDING, ~open_rows)
                .values(status=EditionStatus.SENT, finished_at=utcnow())
                .execution_options(synchronize_session=False))


class Worker:
    """Claims batches from each queue in turn (digests, follower notifications, then
    import confirmations) and sends them through one channel connection."""

    def __init__(self, channel=None):
        # Imported here: notifications render updates and priorities, whose services
        # queue notifications in turn.
        from feedback.notifications.sending import NotificationQueue
        from feedback.subscriptions.sending import ConfirmationQueue

        self.channel = channel or open_channel()
        config = current_app.config
        self.batch_size = config["DELIVERY_BATCH_SIZE"]
        self.max_attempts = config["DELIVERY_MAX_ATTEMPTS"]
        self.retry_seconds = config["DELIVERY_RETRY_SECONDS"]
        self.limiter = RateLimiter(config["DELIVERY_RATE_PER_SECOND"])
        self.base_url = base_url()
        self.queues: list[Queue] = [DigestQueue(self), NotificationQueue(self),
                                    ConfirmationQueue(self)]
        self.sent = 0

    def run_batch(self) -> int:
        """Claim and send one batch from each queue; returns how many rows it handled
        (0: nothing due)."""
        return sum(self.send_batch(queue) for queue in self.queues)

    def send_batch(self, queue: Queue) -> int:
        """Claim and send one batch of ``queue``; returns how many rows it handled. One
        row that cannot be rendered or sent is marked failed with the reason; the rest of
        the batch is still sent."""
        exhausted = give_up_exhausted(type(queue))
        if exhausted:
            queue.finish(exhausted)
            db.session.commit()
        token = claim_batch(self.batch_size, queue=type(queue))
        if token is None:
            return len(exhausted)
        model = queue.model
        rows = queue.claimed(token)
        sent: list[tuple[int, str | None]] = []
        now = utcnow()
        try:
            for index, row in enumerate(rows):
                if not queue.still_wanted(row):
                    self._finish(model, row.id, DeliveryStatus.CANCELLED,
                                 "not wanted at send time")
                    continue
                self.limiter.wait()
                try:
                    provider_id = self.channel.send(queue.outgoing(row))
                except SQLAlchemyError:
                    raise  # the database, not this row: the whole batch is retried
                except BackOff as failure:
                    self._back_off(model, rows[index:], failure)
                    break
                except TemporaryFailure as failure:
                    self._retry(model, row, failure)
                except PermanentFailure as failure:
                    self._finish(model, row.id, DeliveryStatus.FAILED, failure.reason)
                    subscriptions.suppress(subscriptions.channel_address(
                        getattr(row, "channel", Channel.EMAIL), row.email,
                        getattr(row, "phone", "")), failure.reason)
                except Exception as error:  # this row cannot be built or sent: skip it
                    # The type only: the message may quote a name or an address.
                    log.error("outbox row %s (%s) failed: %s", row.id, model.__tablename__,
                              type(error).__name__)
                    self._finish(model, row.id, DeliveryStatus.FAILED,
                                 f"could not send: {type(error).__name__}: {error}")
                else:
                    sent.append((row.id, provider_id))
        finally:
            self._mark_sent(model, sent, now)
            queue.finish(rows)
            db.session.commit()
        self.sent += len(sent)
        return len(rows)

    @staticmethod
    def _mark_sent(model: type[Queued], sent: list[tuple[int, str | None]],
                   now: datetime) -> None:
        plain = [row_id for row_id, provider_id in sent if provider_id is None]
        if plain:
            db.session.execute(update(model).where(model.id.in_(plain)).values(
                status=DeliveryStatus.SENT, sent_at=now, last_error="")
                .execution_options(synchronize_session=False))
        for row_id, provider_id in sent:
            if provider_id is not None:
                db.session.execute(update(model).where(model.id == row_id).values(
                    status=DeliveryStatus.SENT, sent_at=now, provider_id=provider_id,
                    last_error="").execution_options(synchronize_session=False))

    @staticmethod
    def _finish(model: type[Queued], row_id: int, status: DeliveryStatus,
                reason: str) -> None:
        db.session.execute(update(model).where(model.id == row_id).values(
            status=status, last_error=reason[:300]).execution_options(
            synchronize_session=False))

    def _retry(self, model: type[Queued], row: Row, failure: TemporaryFailure) -> None:
        if row.attempts >= self.max_attempts:
            self._finish(model, row.id, DeliveryStatus.FAILED, f"gave up: {failure.reason}")
            return
        delay = failure.retry_after if failure.retry_after is not None else \
            self.retry_seconds * 2 ** (row.attempts - 1)
        db.session.execute(update(model).where(model.id == row.id).values(
            status=DeliveryStatus.PENDING, claim_token=None, last_error=failure.reason[:300],
            next_attempt_at=utcnow() + timedelta(seconds=delay))
            .execution_options(synchronize_session=False))

    @staticmethod
    def _back_off(model: type[Queued], rows: Sequence[Row], failure: BackOff) -> None:
        """Put this row and the rest of the batch back, due after the provider's pause,
        without counting an attempt."""
        db.session.execute(update(model).where(model.id.in_([r.id for r in rows]))
                           .values(status=DeliveryStatus.PENDING, claim_token=None,
                                   attempts=model.attempts - 1,
                                   last_error=failure.reason[:300],
                                   next_attempt_at=utcnow() + timedelta(
                                       seconds=failure.retry_after or 60))
                           .execution_options(synchronize_session=False))

    def run(self, *, until_idle: bool = True, max_seconds: float | None = None,
            idle_sleep: float = 2.0, stop: threading.Event | None = None) -> int:
        """Send batches until nothing is due (or forever, for ``feedback deliver``), or
        until ``stop`` is set: the batch in hand is finished and recorded first.

        When the database cannot be reached the worker waits and tries again (1 s, then
        doubling up to ``DELIVERY_DB_RETRY_MAX_SECONDS``), logging each wait, instead of
        exiting: rows it had claimed are claimed again when their lease runs out."""
        started = time.monotonic()
        stop = stop or threading.Event()
        delay = 0.0
        ceiling = float(current_app.config["DELIVERY_DB_RETRY_MAX_SECONDS"])
        try:
            while not stop.is_set():
                try:
                    handled = self.run_batch()
                except (OperationalError, InterfaceError) as error:
                    _rollback_quietly()
                    delay = min(ceiling, delay * 2 or 1.0)
                    log.warning("database unavailable (%s); delivery tries again in %.0f s",
                                type(error.orig or error).__name__, delay)
                    if max_seconds is not None and \
                            time.monotonic() - started + delay > max_seconds:
                        break
                    stop.wait(delay)
                    continue
                if delay:
                    log.info("database reachable again; delivery carries on")
                    delay = 0.0
                if max_seconds is not None and time.monotonic() - started > max_seconds:
                    break
                if handled == 0:
                    if until_idle:
                        break
                    stop.wait(idle_sleep)
        finally:
            self.channel.close()
        return self.sent


def _rollback_quietly() -> None:
    """Drop the session's broken transaction (the database may still be away)."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()


def deliver_due(max_seconds: float | None = None) -> int:
    """Send everything due now through the configured channel; returns messages sent."""
    return Worker().run(until_idle=True, max_seconds=max_seconds)


def next_retry_at() -> datetime | None:
    return db.session.scalar(select(func.min(Delivery.next_attempt_at)).where(
        Delivery.status == DeliveryStatus.PENDING))


def release_expired_claims(now: datetime | None = None) -> int:
    """Return rows claimed by workers that died to the queue (claiming does this too; the
    scheduler's retry job makes it visible on the operator page sooner)."""
    from feedback.notifications.models import Notification

    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    released = 0
    for model in (Delivery, Notification, Confirmation):
        result = db.session.execute(update(model).where(
            model.status == DeliveryStatus.SENDING, model.claimed_at < now - lease)
            .values(status=DeliveryStatus.PENDING, claim_token=None)
            .execution_options(synchronize_session=False))
        released += result.rowcount or 0
    return released


# Receipts ----------------------------------------------------------------------------

PERMANENT_RECEIPTS = {"permanent-failure"}
NOTIFICATION_REFERENCE = "notification-"
CONFIRMATION_REFERENCE = "confirmation-"


def record_receipt(payload: dict) -> bool:
    """A GOV.UK Notify delivery receipt, for a digest row (reference ``N``) or a follower
    notification (``notification-N``). Safe to receive twice; returns False when the
    reference is unknown. A permanent failure suppresses the address on its channel only
    (a text message's phone number, never the email address)."""
    from feedback.notifications.models import Notification

    reference = str(payload.get("reference") or "")
    model: type[Queued] = Delivery
    if reference.startswith(NOTIFICATION_REFERENCE):
        model, reference = Notification, reference.removeprefix(NOTIFICATION_REFERENCE)
    elif reference.startswith(CONFIRMATION_REFERENCE):
        model, reference = Confirmation, reference.removeprefix(CONFIRMATION_REFERENCE)
    if not reference.isdigit():
        return False
    row = db.session.get(model, int(reference))
    if row is None:
        return False
    status = str(payload.get("status") or "")[:40]
    row.receipt_status = status
    if payload.get("id"):
        row.provider_id = str(payload["id"])[:64]
    if model is Notification:
        address = row.user.email
    elif model is Delivery:
        address = subscriptions.channel_address(row.channel, row.subscriber.email,
                                                row.subscriber.phone)
    else:  # a confirmation request (a text message for someone with no email address)
        address = row.subscriber.email or row.subscriber.phone
    if status in PERMANENT_RECEIPTS and address:
        subscriptions.suppress(address, f"Notify: {status}")
    db.session.flush()
    return True
