"""PostgreSQL: delivery workers running at once, as threads and as real ``feedback
deliver`` processes, never send the same notification twice (rows are claimed with
``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import select

from feedback.delivery.models import DeliveryStatus
from feedback.extensions import db
from feedback.notifications.models import Notification
from tests.delivery.test_processes import FEEDBACK, _env, workers_at_once
from tests.digest_support import SmtpSink
from tests.notifications.conftest import add_followers

pytestmark = [pytest.mark.postgres_only, pytest.mark.long]


def test_two_worker_threads_never_send_the_same_notification(app, make_update, dataset,
                                                             outbox):
    add_followers(80, "dataset", dataset.id)
    make_update()
    app.config["DELIVERY_BATCH_SIZE"] = 7
    sent = workers_at_once(app)
    recipients = [message["To"] for message in outbox.messages()]
    assert sum(sent) == 80 and len(recipients) == 80 and len(set(recipients)) == 80


def test_two_deliver_processes_send_each_notification_once(app, tmp_path, make_update,
                                                           dataset):
    add_followers(150, "dataset", dataset.id)
    make_update()
    sink = SmtpSink(delay=0.002).start()
    try:
        env = _env(app, tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port,
                   SMTP_SECURITY="none", DELIVERY_CHANNEL="smtp", DELIVERY_BATCH_SIZE=5)
        workers = [subprocess.Popen([FEEDBACK, "deliver", "--once"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        outputs = [worker.communicate(timeout=120) for worker in workers]
    finally:
        sink.stop()
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    copies = sink.recipients()
    assert len(copies) == 150 and set(copies.values()) == {1}
    sent = [int(re.search(r"Sent (\d+) messages", out).group(1)) for out, _err in outputs]
    assert sum(sent) == 150
    db.session.expire_all()
    assert db.session.scalars(select(Notification.status).distinct()).all() == [
        DeliveryStatus.SENT]
