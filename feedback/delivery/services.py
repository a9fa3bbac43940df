"""The outbox worker: claiming rows, sending, retrying, receipts.

The worker sends every registered queue (``feedback.delivery.queues``) with the same
claim, retry and receipt code: digest and newsletter rows (``feedback.digests.sending``),
follower notifications (``feedback.notifications.sending``, queued when an update or a
priority response is published) and confirmation emails for contacts a partner imported
(``feedback.subscriptions.sending``). Each queue lives with its domain, so this package
depends on none of them.

Delivery guarantee. A row is marked ``sent`` only after the provider accepted the
message, and sent marks are committed once per claimed batch. A worker killed mid-batch
therefore leaves at most ``DELIVERY_BATCH_SIZE`` accepted-but-unrecorded rows, plus the
rounds queued ahead (``Worker.ROUNDS_AHEAD`` messages per connection), which are claimed
again when their lease runs out: nobody is missed, and duplicates are bounded by that
per killed worker. Each message's Message-ID is deterministic, so
a receiving system can also recognise a repeat.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
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
from feedback.delivery.models import DeliveryStatus, Queued, literal_status
from feedback.delivery.queues import Queue, for_reference, registered
from feedback.extensions import db

log = logging.getLogger(__name__)


# Claiming ----------------------------------------------------------------------------

def _due(model: type[Queued], now: datetime) -> tuple:
    """The two kinds of row a worker may claim, each one an index can find on its own:
    rows waiting and past their retry time, and rows claimed by a worker whose lease has
    run out (it died)."""
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    return (and_(model.status == literal_status(DeliveryStatus.SENDING),
                 model.claimed_at < now - lease),
            and_(model.status == literal_status(DeliveryStatus.PENDING),
                 model.next_attempt_at <= now))


def claim_batch(limit: int, now: datetime | None = None, *, queue: type[Queue]) -> str | None:
    """Claim up to ``limit`` due rows of one queue for this worker
    and commit. PostgreSQL uses ``FOR UPDATE SKIP LOCKED`` so workers never wait for each
    other; SQLite runs each UPDATE under its database write lock, which is just as
    exclusive. Rows whose worker died are claimed again once their lease has run out
    (first, oldest first), but never once they have had ``DELIVERY_MAX_ATTEMPTS``
    (``give_up_exhausted`` fails those): a row that kills every worker that sends it
    cannot hold the queue up. Waiting rows are taken oldest first from each of the
    queue's ``claim_scopes`` in turn (a digest edition at a time), through partial
    indexes of waiting rows by id (``waiting_indexes``), which hold no row already sent."""
    model = queue.model
    now = now or utcnow()
    token = uuid.uuid4().hex
    claimed = 0
    for scope, due in itertools.product(queue.claim_scopes(), _due(model, now)):
        if claimed >= limit:
            break
        ids = (queue.claimable(select(model.id)).where(
            due, model.attempts < current_app.config["DELIVERY_MAX_ATTEMPTS"],
            *([] if scope is None else [scope]))
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


@dataclass
class _Round:
    """Messages on their way, one per connection, and the queue their rows belong to."""

    queue: Queue
    sends: list[tuple[Row, Future]]


class Worker:
    """Claims batches from each registered queue in turn (``feedback.delivery.queues``:
    digests, follower notifications, then import confirmations) and sends them through
    one channel, over as many connections as it holds (``SMTP_CONNECTIONS``).

    One query per batch, just after it is claimed, checks which of its rows are still
    wanted: an unsubscribe or a suppression stops every message of each batch claimed
    after it. Only the rows still wanted are rendered. Messages go in rounds of one per
    connection, and up to ``ROUNDS_AHEAD`` rounds wait behind the one being sent, from
    one batch to the next: while the connections send them, the worker records the batch
    before (its sent marks, committed), claims and checks the next one, so the
    connections never stand idle waiting for the database."""

    # Rounds queued behind the one being sent. A round to a nearby server takes about
    # 1.5 ms, so 32 cover the database work between two batches (recording, claiming,
    # checking: 20-50 ms on PostgreSQL at 50,000 recipients); 16 left the connections
    # idle at each batch's end (bench/digest.py: 0.72 of the sink's pace against 0.77).
    ROUNDS_AHEAD = 32
    # How often each queue's rows that had every attempt are looked for (rows only get
    # there when a worker dies mid-send, and claiming already passes them by).
    GIVE_UP_EVERY_SECONDS = 60.0

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
        self._flying: deque[_Round] = deque()
        # Outcomes taken from rounds that have landed, until they are recorded: the rows
        # accepted (with the provider's id), every row settled (for ``Queue.finish``),
        # and the rows the provider asked to hold back.
        self._accepted: dict[Queue, list[tuple[int, str | None]]] = {}
        self._settled: dict[Queue, list[Row]] = {}
        self._held: list[tuple[Queue, Row]] = []
        self._given_up_at: dict[type[Queue], float] = {}

    def run_batch(self) -> int:
        """Claim and send one batch from each queue, and record them; returns how many
        rows it handled (0: nothing due)."""
        handled = self._each_queue()
        self._land_all()
        return handled

    def _each_queue(self) -> int:
        return sum(self.send_batch(queue) for queue in self.queues)

    def send_batch(self, queue: Queue) -> int:
        """Claim, check and start one batch of ``queue``, then record what has been sent
        so far (the last rounds may still be on their way: ``_land_all`` waits for them).
        Returns how many rows it handled. One row that cannot be rendered or sent is
        marked failed with the reason; the rest of the batch is still sent. When the
        provider asks us to hold back, the rounds on their way are finished and the rest
        of the batch is put back."""
        token = claim_batch(self.batch_size, queue=type(queue))
        if token is None:
            return len(self._give_up_exhausted(queue))
        model = queue.model
        rows = queue.claimed(token)
        wanted = queue.still_wanted(rows)
        self._finish(model, [row.id for row in rows if row.id not in wanted],
                     DeliveryStatus.CANCELLED, "not wanted at send time")
        going = [row for row in rows if row.id in wanted]
        width = self.connections
        started = False
        try:
            for start in range(0, len(going), width):
                pause = self._land(keep=self.ROUNDS_AHEAD)
                if pause is not None:
                    self._hold_back(pause, [(queue, row) for row in going[start:]])
                    break
                self._flying.append(_Round(queue, self._launch(queue, going[start:start + width])))
            started = True
            exhausted = self._give_up_exhausted(queue)  # while the rounds are on their way
        finally:
            if not started:  # an error: nothing is left on its way unrecorded
                self._land(keep=0)
            self._record({queue: rows})
        return len(rows) + len(exhausted)

    def _give_up_exhausted(self, queue: Queue) -> list[Row]:
        """Fail the rows of ``queue`` that had every attempt, at the first batch and then
        every ``GIVE_UP_EVERY_SECONDS``."""
        now = time.monotonic()
        last = self._given_up_at.get(type(queue))
        if last is not None and now - last < self.GIVE_UP_EVERY_SECONDS:
            return []
        self._given_up_at[type(queue)] = now
        exhausted = give_up_exhausted(type(queue))
        if exhausted:
            queue.finish(exhausted)
            db.session.commit()
        return exhausted

    def _launch(self, queue: Queue, chunk: Sequence[Row]) -> list[tuple[Row, Future]]:
        """Render one round's rows and start sending them, one per connection."""
        ready = self._render(queue, chunk)
        outgoing = []
        for row in chunk:
            message = ready[row.id]
            if isinstance(message, Exception):
                self._failed(queue.model, row, message)
                self._settled.setdefault(queue, []).append(row)
            else:
                outgoing.append((row, message))
        for _row in outgoing:
            self.limiter.wait()
        return list(zip([row for row, _message in outgoing],
                        self._start([message for _row, message in outgoing]), strict=True))

    def _land(self, *, keep: int) -> BackOff | None:
        """Wait for the oldest rounds on their way until ``keep`` are left, and take any
        other round already answered, noting each message's outcome. Returns the
        provider's answer if it asked us to hold back (its rows are kept in ``_held``)."""
        pause: BackOff | None = None
        flying = self._flying
        while flying and (len(flying) > keep or all(f.done() for _row, f in flying[0].sends)):
            pause = self._settle(flying.popleft()) or pause
        return pause

    def _land_all(self) -> int:
        """Wait for every round on its way and record them all; returns how many
        messages were on their way."""
        landing = sum(len(flight.sends) for flight in self._flying)
        pause = self._land(keep=0)
        if pause is not None:
            self._hold_back(pause, [])
        self._record({})
        return landing

    def _hold_back(self, pause: BackOff, rest: list[tuple[Queue, Row]]) -> None:
        """The provider asked us to hold back: let the rounds on their way finish, then
        put back the rows it held and ``rest``, due after its pause."""
        self._land(keep=0)
        held, self._held = [*self._held, *rest], []
        for queue in dict.fromkeys(queue for queue, _row in held):
            self._back_off(queue.model, [row for q, row in held if q is queue], pause)

    def _record(self, batches: dict[Queue, Sequence[Row]]) -> None:
        """Mark sent the rows accepted so far, let each queue finish its rows (``batches``
        and those settled since the last time) and commit."""
        now = utcnow()
        for queue in {**dict.fromkeys(self._settled), **dict.fromkeys(batches)}:
            accepted = self._accepted.pop(queue, [])
            self._mark_sent(queue.model, accepted, now)
            self.sent += len(accepted)
            rows = [*batches.get(queue, ()), *self._settled.pop(queue, [])]
            if rows:
                queue.finish(rows)
        db.session.commit()

    def _forget_flying(self) -> None:
        """After the database failed: wait for the rounds on their way and forget every
        outcome not recorded. Their rows are claimed again when their lease runs out."""
        for flight in self._flying:
            for _row, future in flight.sends:
                future.exception()
        self._flying.clear()
        self._accepted.clear()
        self._settled.clear()
        self._held.clear()

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

    def _settle(self, flight: _Round) -> BackOff | None:
        """Note each outcome of one round that has landed: accepted (marked sent when
        recorded), retried or failed (written now). Returns the provider's answer if it
        asked us to hold back (those rows go to ``_held``)."""
        queue = flight.queue
        model = queue.model
        pause: BackOff | None = None
        for row, future in flight.sends:
            try:
                provider_id = future.result()
            except BackOff as failure:
                self._held.append((queue, row))
                pause = pause or failure
                continue
            except TemporaryFailure as failure:
                self._retry(model, row, failure)
            except PermanentFailure as failure:
                self._finish(model, [row.id], DeliveryStatus.FAILED, failure.reason)
                queue.permanent_failure(row, failure.reason)
            except Exception as error:  # this row cannot be sent: skip it
                self._failed(model, row, error)
            else:
                self._accepted.setdefault(queue, []).append((row.id, provider_id))
            self._settled.setdefault(queue, []).append(row)
        return pause

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
                    handled = self._each_queue()
                    if handled == 0 or stop.is_set() or (
                            max_seconds is not None
                            and time.monotonic() - started > max_seconds):
                        # Before waiting or stopping, record them all. Not idle yet if
                        # any were on their way: a retry may be due at once.
                        handled += self._land_all()
                except (OperationalError, InterfaceError) as error:
                    self._forget_flying()
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
            try:
                if self._flying:  # only after an error
                    self._land_all()
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
