"""Real processes: a delivery worker killed with SIGKILL mid-run, and two schedulers
started at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from feedback.delivery.models import DeliveryStatus
from feedback.digests.models import Delivery, Edition
from feedback.extensions import db
from tests.digest_support import (
    SmtpSink,
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    use_items,
)

FEEDBACK = str(Path(sys.executable).parent / "feedback")
BATCH = 10


def _env(app, tmp_path, **settings) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACK_")}
    env.update({"FEEDBACK_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "FEEDBACK_SECRET_KEY": app.config["SECRET_KEY"],
                "FEEDBACK_OUTBOX_DIR": str(tmp_path / "worker-outbox"),
                "FEEDBACK_BASE_URL": "http://feedback.test", "FEEDBACK_LOG_LEVEL": "INFO"})
    env.update({f"FEEDBACK_{key}": str(value) for key, value in settings.items()})
    return env


def _wait_for(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.05)


@pytest.mark.long
@pytest.mark.postgres_only
def test_a_worker_killed_mid_run_misses_nobody_and_duplicates_a_bounded_few(app, tmp_path):
    """Fault 2. Bound: sent marks are committed once per claimed batch, and the rounds
    queued ahead of the connections carry on from one batch to the next, so a SIGKILL
    can leave at most DELIVERY_BATCH_SIZE (here 10) plus the queued rounds (one message
    per connection each) accepted but unrecorded. Those are sent again after the lease.
    Nobody is missed."""
    from feedback.delivery.services import Worker

    bound = BATCH + (Worker.ROUNDS_AHEAD + 1) * 2  # two connections, the default
    readers = 4 * bound
    sink = SmtpSink(delay=0.004).start()
    try:
        use_items(app, [item(1)])
        audience = make_audience()
        add_subscribers(audience, readers)
        start_edition_now(audience)
        env = _env(app, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port,
                   SMTP_SECURITY="none", DELIVERY_CHANNEL="smtp", DELIVERY_BATCH_SIZE=BATCH,
                   DELIVERY_LEASE_SECONDS=1)
        worker = subprocess.Popen([FEEDBACK, "deliver"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            _wait_for(lambda: len(sink.messages) >= bound, 60, "the worker sent too little")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        delivered_before = len(sink.messages)
        assert delivered_before < readers, "the kill came too late to test anything"
        in_flight = db.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.SENDING))
        assert in_flight <= bound  # claimed, maybe sent, not yet recorded

        time.sleep(1.2)  # the dead worker's lease runs out
        restarted = subprocess.run([FEEDBACK, "deliver", "--once"], env=env, timeout=120,
                                   capture_output=True, text=True)
        assert restarted.returncode == 0, restarted.stderr[-2000:]
    finally:
        sink.stop()

    copies = sink.recipients()
    duplicates = sum(copies.values()) - len(copies)
    assert len(copies) == readers  # nobody missed
    assert duplicates <= in_flight <= bound
    db.session.expire_all()
    assert db.session.scalars(select(Delivery.status).distinct()).all() == [
        DeliveryStatus.SENT]


def _start_scheduler(env, log: Path) -> subprocess.Popen:
    return subprocess.Popen([FEEDBACK, "scheduler", "--poll", "0.3"], env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))


def test_two_schedulers_at_once_create_each_edition_once(app, tmp_path):
    """Fault 4: one takes the lock; the other waits as a standby and takes over when the
    first is killed. Each edition is created once."""
    audience = make_audience(send_when_empty=True)
    add_subscribers(audience, 3)
    env = _env(app, tmp_path, SCHEDULER_LOCK_FILE=str(tmp_path / "scheduler.lock"))
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    schedulers = [_start_scheduler(env, log) for log in logs]
    try:
        def leader() -> int | None:
            held = [i for i, log in enumerate(logs) if "scheduler lock held" in
                    log.read_text()]
            assert len(held) <= 1, "two schedulers hold the lock"
            return held[0] if held else None

        def created() -> bool:
            db.session.rollback()
            return db.session.scalar(select(func.count()).select_from(Edition)) > 0

        _wait_for(created, 60, "no edition was created")
        _wait_for(lambda: leader() is not None, 10, "nobody reported holding the lock")
        first = leader()
        standby = 1 - first
        _wait_for(lambda: "standby" in logs[standby].read_text(), 10, "no standby")
        schedulers[first].send_signal(signal.SIGKILL)
        schedulers[first].wait(10)
        _wait_for(lambda: "scheduler lock held" in logs[standby].read_text(), 30,
                  "the standby did not take over")
        time.sleep(1.0)  # its first run of the edition job
    finally:
        for process in schedulers:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
    db.session.rollback()
    assert db.session.scalars(select(Edition.audience_id)).all() == [audience.id]


@pytest.mark.long
@pytest.mark.postgres_only
def test_concurrent_creation_in_two_sessions_makes_one_edition(app):
    from feedback.digests.tasks import create_edition

    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 5)
    audience_id = audience.id
    results, barrier = [], threading.Barrier(2)

    def run() -> None:
        with app.app_context():
            barrier.wait()
            results.append(create_edition(audience_id, "2026-W47"))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2 and results[0] == results[1]
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 5


def workers_at_once(app, count: int = 2) -> list[int]:
    """Run ``count`` delivery workers in threads, started together; what each sent."""
    from feedback.delivery.services import Worker

    sent, barrier = [], threading.Barrier(count)

    def work() -> None:
        with app.app_context():
            barrier.wait()
            sent.append(Worker().run())
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sent


@pytest.mark.long
@pytest.mark.postgres_only
def test_two_workers_at_once_never_send_the_same_row(app, outbox):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 80)
    start_edition_now(audience)
    app.config["DELIVERY_BATCH_SIZE"] = 7
    sent = workers_at_once(app)
    recipients = [message["To"] for message in outbox.messages()]
    assert sum(sent) == 80 and len(recipients) == 80 and len(set(recipients)) == 80
