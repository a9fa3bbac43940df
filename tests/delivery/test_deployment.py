"""The deployment in docs/deployment.md, in miniature: two schedulers (one a standby), two
delivery workers and two gunicorn web workers, all real processes on one PostgreSQL
database. A digest edition goes out to an SMTP sink and every reader gets one copy."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from feedback.delivery.models import DeliveryStatus
from feedback.digests.models import Delivery, Edition
from feedback.extensions import db
from tests.delivery.test_processes import FEEDBACK, _env, _wait_for
from tests.digest_support import SmtpSink, add_subscribers, free_port, make_audience

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
READERS = 40


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.long
@pytest.mark.postgres_only
def test_many_processes_on_one_database_send_each_reader_one_copy(app, tmp_path):
    audience = make_audience(send_when_empty=True)
    add_subscribers(audience, READERS)
    sink = SmtpSink().start()
    port = free_port()
    env = _env(app, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port,
               SMTP_SECURITY="none", DELIVERY_CHANNEL="smtp", DELIVERY_BATCH_SIZE=5,
               RUN_SCHEDULER="false")
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(name: str, *command: str) -> subprocess.Popen:
        return subprocess.Popen(list(command), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=(logs / f"{name}.log").open("w"))

    processes = [
        start("web", GUNICORN, "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"),
        start("scheduler-1", FEEDBACK, "scheduler", "--poll", "0.3"),
        start("scheduler-2", FEEDBACK, "scheduler", "--poll", "0.3"),
        start("deliver-1", FEEDBACK, "deliver", "--idle-sleep", "0.2"),
        start("deliver-2", FEEDBACK, "deliver", "--idle-sleep", "0.2"),
    ]
    try:
        _wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), 60,
                  "the web workers did not start")

        def all_sent() -> bool:
            db.session.rollback()
            statuses = db.session.scalars(select(Delivery.status).distinct()).all()
            return len(sink.recipients()) >= READERS and statuses == [DeliveryStatus.SENT]

        _wait_for(all_sent, 120, "the edition was not delivered to everyone")
        # The web workers answer throughout, on the same database.
        assert _healthy(f"http://127.0.0.1:{port}/healthz")
        time.sleep(1.0)  # any duplicate would arrive now
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        sink.stop()

    copies = sink.recipients()
    assert len(copies) == READERS
    assert set(copies.values()) == {1}, "someone got more than one copy"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Edition)) == 1
    held = [log.name for log in logs.glob("scheduler-*.log")
            if "scheduler lock held" in log.read_text()]
    assert len(held) == 1, f"one scheduler holds the lock, the other waits: {held}"
