"""The outbox worker: claiming rows, sending, retrying, receipts.

The worker sends every registered queue (``feedback.delivery.queues``) with the same
claim, retry and receipt code: digest and newsletter rows (``feedback.digests.sending``),
follower notifications (``feedback.notifications.sending``, queued when an update or a
priority response is published) and confirmation emails for contacts a partner imported
(``feedback.subscriptions.sending``). Each queue lives with its domain, so this package
depends on none of them.

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
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from feedback.core.models import utcnow
from feedback.core.urls import base_url
from feedback.delivery.channels import (
    BackOff,
    Outgoing,
    PermanentFailure,
    TemporaryFailure,
    open_channel,
)
from feedback.delivery.models import DeliveryStatus, Queued
from feedback.delivery.queues import Queue, for_reference, registered
from feedback.extensions import db

log = logging.getLogger(__name__)


# Claiming ----------------------------------------------------------------------------

def _due(model: type[Queued], now: datetime) -> tuple:
    """The two kinds of row a worker may claim, each one an index can find on its own:
    rows waiting and past their retry time, and rows claimed by a worker whose lease has
    run out (it died)."""
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    return (and_(model.status == DeliveryStatus.SENDING, model.claimed_at < now - lease),
            and_(model.status == DeliveryStatus.PENDING, model.next_attempt_at <= now))


def claim_batch(limit: int, now: datetime | None = None, *, queue: type[Queue]) -> str | None:
    """Claim up to ``limit`` due rows of one queue for this worker
    and commit. PostgreSQL uses ``FOR UPDATE SKIP LOCKED`` so workers never wait for each
    other; SQLite runs each UPDATE under its database write lock, which is just as
    exclusive. Rows whose worker died are claimed again once their lease has run out
    (first, oldest first), but never once they have had ``DELIVERY_MAX_ATTEMPTS``
    (``give_up_exhausted`` fails those): a row that kills every worker that sends it
    cannot hold the queue up. Waiting rows are taken oldest first, through the partial
    index of waiting rows by id (``waiting_indexes``), which holds no row already sent."""
    model = queue.model
    now = now or utcnow()
    token = uuid.uuid4().hex
    claimed = 0
    for due in _due(model, now):
        if claimed >= limit:
            break
        ids = (queue.claimable(select(model.id)).where(
            due, model.attempts < current_app.config["DELIVERY_MAX_ATTEMPTS"])
            .order_by(model.id).limit(limit - claimed))
        if db.engine.dialect.name == "postgresql":
            ids = ids.with_for_update(skip_locked=True, of=model)
        result = db.session.execute(
            update(model).where(model.id.in_(ids.scalar_subquery()))
            .values(status=DeliveryStatus.SENDING, claim_token=token, claimed_at=now,
                    attempts=model.attempts + 1)
            .execution_options(synchronize_session=False))
        claimed += result.rowcount or 0
    db.session.commit()
    return token if claimed else None


def give_up_exhausted(queue: type[Queue], now: datetime | None = None) -> list[Row]:
    """Mark failed the due rows of ``queue`` that have had every attempt (their worker died
    sending them each time), in the caller's transaction. Returns them (``id`` and the
    queue's other columns) so their editions can be finished."""
    model = queue.model
    now = now or utcnow()
    exhausted = model.attempts >= current_app.config["DELIVERY_MAX_ATTEMPTS"]
    ids = [row_id for due in _due(model, now) for row_id in db.session.scalars(
        queue.claimable(select(model.id)).where(due, exhausted))]
    if not ids:
        return []
    db.session.execute(update(model).where(model.id.in_(ids), or_(*_due(model, now)))
                       .values(status=DeliveryStatus.FAILED, claim_token=None,
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


class Worker:
    """Claims batches from each registered queue in turn (``feedback.delivery.queues``:
    digests, follower notifications, then import confirmations) and sends them through
    one channel, over as many connections as it holds (``SMTP_CONNECTIONS``).

    A batch goes in rounds of one message per connection, and two rounds are on their way
    at once, so a connection that finishes a message starts the next without waiting.
    Before each round goes, one query checks which of its rows are still wanted, once
    the round two before it has been accepted: an unsubscribe or a suppression stops
    every message from two rounds on (a few milliseconds), even in the same batch. Only
    the rows still wanted are rendered."""

    # Rounds on their way at once: the one being sent and the one queued behind it.
    ROUNDS_IN_FLIGHT = 2

    def __init__(self, channel=None):
        self.channel = channel or open_channel()
        config = current_app.config
        self.batch_size = config["DELIVERY_BATCH_SIZE"]
        self.max_attempts = config["DELIVERY_MAX_ATTEMPTS"]
        self.retry_seconds = config["DELIVERY_RETRY_SECONDS"]
        self.limiter = RateLimiter(config["DELIVERY_RATE_PER_SECOND"])
        self.base_url = base_url()
        self.connections = max(1, int(getattr(self.channel, "connections", 1)))
        self.queues: list[Queue] = [queue(self) for queue in registered()]
        self.sent = 0

    def run_batch(self) -> int:
        """Claim and send one batch from each queue; returns how many rows it handled
        (0: nothing due)."""
        return sum(self.send_batch(queue) for queue in self.queues)

    def send_batch(self, queue: Queue) -> int:
        """Claim and send one batch of ``queue``; returns how many rows it handled. One
        row that cannot be rendered or sent is marked failed with the reason; the rest of
        the batch is still sent. When the provider asks us to hold back, the rounds on
        their way are finished and the rest of the batch is put back."""
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
        held: list[Row] = []  # rows the provider asked to hold back
        flying: deque[list[tuple[Row, Future]]] = deque()
        now = utcnow()
        width = self.connections
        try:
            for start in range(0, len(rows), width):
                pause = self._land(queue, flying, sent, held, keep=self.ROUNDS_IN_FLIGHT - 1)
                if pause is not None:
                    self._land(queue, flying, sent, held, keep=0)
                    self._back_off(model, [*held, *rows[start:]], pause)
                    break
                flying.append(self._launch(queue, rows[start:start + width]))
            else:
                pause = self._land(queue, flying, sent, held, keep=0)
                if pause is not None:
                    self._back_off(model, held, pause)
        finally:
            try:
                self._land(queue, flying, sent, held, keep=0)  # only after an error
            finally:
                self._mark_sent(model, sent, now)
                queue.finish(rows)
                db.session.commit()
        self.sent += len(sent)
        return len(rows)

    def _launch(self, queue: Queue, chunk: Sequence[Row]) -> list[tuple[Row, Future]]:
        """Check which rows of one round are still wanted (one query), cancel the others,
        render the rest and start sending them, one per connection."""
        wanted = queue.still_wanted(chunk)
        self._finish(queue.model, [row.id for row in chunk if row.id not in wanted],
                     DeliveryStatus.CANCELLED, "not wanted at send time")
        going = [row for row in chunk if row.id in wanted]
        ready = self._render(queue, going)
        outgoing = []
        for row in going:
            message = ready[row.id]
            if isinstance(message, Exception):
                self._failed(queue.model, row, message)
            else:
                outgoing.append((row, message))
        for _row in outgoing:
            self.limiter.wait()
        return list(zip([row for row, _message in outgoing],
                        self._start([message for _row, message in outgoing]), strict=True))

    def _land(self, queue: Queue, flying: deque[list[tuple[Row, Future]]],
              sent: list[tuple[int, str | None]], held: list[Row], *,
              keep: int) -> BackOff | None:
        """Wait for the oldest rounds on their way until ``keep`` are left, and take any
        other round already answered, recording each message's outcome. Returns the
        provider's answer if it asked us to hold back (its rows are added to ``held``)."""
        pause: BackOff | None = None
        while flying and (len(flying) > keep or all(f.done() for _row, f in flying[0])):
            backed_off, failure = self._settle(queue, flying.popleft(), sent)
            held.extend(backed_off)
            pause = pause or failure
        return pause

    @staticmethod
    def _render(queue: Queue, rows: Sequence[Row]) -> dict[int, Outgoing | Exception]:
        """Each row's message, or why it could not be built. The database's own errors
        are raised: the whole batch is retried."""
        ready: dict[int, Outgoing | Exception] = {}
        for row in rows:
            try:
                ready[row.id] = queue.outgoing(row)
            except SQLAlchemyError:
                raise
            except Exception as error:  # this row cannot be built: skip it
                ready[row.id] = error
        return ready

    def _start(self, outgoing: list[Outgoing]) -> list[Future]:
        """Send one round: at once over the channel's connections when it has several
        (``start``), else one message after another."""
        if not outgoing:
            return []
        start = getattr(self.channel, "start", None)
        if start is not None:
            return start(outgoing)
        futures = []
        for message in outgoing:
            future: Future = Future()
            try:
                future.set_result(self.channel.send(message))
            except Exception as error:  # recorded for its row by _settle
                future.set_exception(error)
            futures.append(future)
        return futures

    def _settle(self, queue: Queue, flight: list[tuple[Row, Future]],
                sent: list[tuple[int, str | None]]) -> tuple[list[Row], BackOff | None]:
        """Wait for one round and record each message's outcome: sent (marked with the
        batch), retried, failed. Returns the rows the provider asked to hold back and its
        answer, if it did."""
        model = queue.model
        backed_off: list[Row] = []
        pause: BackOff | None = None
        for row, future in flight:
            try:
                provider_id = future.result()
            except SQLAlchemyError:
                raise  # the database, not this row: the whole batch is retried
            except BackOff as failure:
                backed_off.append(row)
                pause = pause or failure
            except TemporaryFailure as failure:
                self._retry(model, row, failure)
            except PermanentFailure as failure:
                self._finish(model, [row.id], DeliveryStatus.FAILED, failure.reason)
                queue.permanent_failure(row, failure.reason)
            except Exception as error:  # this row cannot be sent: skip it
                self._failed(model, row, error)
            else:
                sent.append((row.id, provider_id))
        return backed_off, pause

    def _failed(self, model: type[Queued], row: Row, error: Exception) -> None:
        # The type only: the message may quote a name or an address.
        log.error("outbox row %s (%s) failed: %s", row.id, model.__tablename__,
                  type(error).__name__)
        self._finish(model, [row.id], DeliveryStatus.FAILED,
                     f"could not send: {type(error).__name__}: {error}")

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
    def _finish(model: type[Queued], row_ids: Sequence[int], status: DeliveryStatus,
                reason: str) -> None:
        if row_ids:
            db.session.execute(update(model).where(model.id.in_(row_ids)).values(
                status=status, last_error=reason[:300]).execution_options(
                synchronize_session=False))

    def _retry(self, model: type[Queued], row: Row, failure: TemporaryFailure) -> None:
        if row.attempts >= self.max_attempts:
            self._finish(model, [row.id], DeliveryStatus.FAILED, f"gave up: {failure.reason}")
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


def release_expired_claims(now: datetime | None = None) -> int:
    """Return rows claimed by workers that died to the queue (claiming does this too; the
    scheduler's retry job makes it visible on the operator page sooner)."""
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    released = 0
    for model in (queue.model for queue in registered()):
        result = db.session.execute(update(model).where(
            model.status == DeliveryStatus.SENDING, model.claimed_at < now - lease)
            .values(status=DeliveryStatus.PENDING, claim_token=None)
            .execution_options(synchronize_session=False))
        released += result.rowcount or 0
    return released


# Receipts ----------------------------------------------------------------------------

PERMANENT_RECEIPTS = {"permanent-failure"}


def record_receipt(payload: dict) -> bool:
    """A GOV.UK Notify delivery receipt, for a row of any registered queue (its reference:
    the queue's prefix and the row id, e.g. ``N`` for a digest row, ``notification-N``
    for a follower notification). Safe to receive twice; returns False when the
    reference is unknown. A permanent failure suppresses the address on its channel only
    (a text message's phone number, never the email address): the queue says which."""
    found = for_reference(str(payload.get("reference") or ""))
    if found is None or not found[1].isdigit():
        return False
    queue, number = found
    row = db.session.get(queue.model, int(number))
    if row is None:
        return False
    status = str(payload.get("status") or "")[:40]
    row.receipt_status = status
    if payload.get("id"):
        row.provider_id = str(payload["id"])[:64]
    if status in PERMANENT_RECEIPTS:
        queue.receipt_failure(row, f"Notify: {status}")
    db.session.flush()
    return True
