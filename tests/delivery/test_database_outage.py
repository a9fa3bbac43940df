"""A delivery worker outlives the database going away (issue 13, item 14): it logs,
waits and tries again, then sends what is queued once the database is back."""

from __future__ import annotations

import shutil
import subprocess
import threading

import pytest
from sqlalchemy import make_url, select

from feedback.delivery.models import DeliveryStatus
from feedback.digests.models import Delivery
from feedback.extensions import db
from tests.delivery.test_processes import FEEDBACK, _env, _wait_for
from tests.digest_support import add_subscribers, item, make_audience, start_edition_now, use_items


def test_feedback_deliver_waits_for_the_database_and_then_sends(app, tmp_path,
                                                                 database_server):
    if database_server["kind"] != "sqlite":
        pytest.skip("the outage is made by moving a SQLite file; PostgreSQL runs the rest")
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 3)
    start_edition_now(audience)
    db.session.remove()
    db.engine.dispose()
    source = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    # The worker's database lives in a folder that does not exist yet: "unable to open".
    away = tmp_path / "away"
    env = _env(app, tmp_path, DATABASE_URL=f"sqlite:///{away / 'feedback.db'}",
               DELIVERY_DB_RETRY_MAX_SECONDS=1, RUN_SCHEDULER=0)
    worker = subprocess.Popen([FEEDBACK, "deliver", "--once", "--idle-sleep", "0.1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(worker.stderr), daemon=True)
    reader.start()
    try:
        _wait_for(lambda: sum("database unavailable" in line for line in lines) >= 2,
                  60, "the worker did not report the outage")
        assert worker.poll() is None  # still alive, waiting
        away.mkdir()
        shutil.copyfile(source, away / "feedback.db")  # the database is back
        out = worker.stdout.read()
        worker.wait(timeout=60)
        reader.join(timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    err = "".join(lines)
    assert worker.returncode == 0, err
    assert "Sent 3 messages." in out
    assert "database unavailable (OperationalError); delivery tries again in 1 s" in err
    assert "database reachable again" in err
    assert len(list((tmp_path / "worker-outbox").glob("*.eml"))) == 3
    # The test's own copy was never touched; the worker's copy has every row sent.
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{away / 'feedback.db'}")
    with engine.connect() as connection:
        statuses = connection.execute(select(Delivery.status)).scalars().all()
    engine.dispose()
    assert statuses == [DeliveryStatus.SENT] * 3
