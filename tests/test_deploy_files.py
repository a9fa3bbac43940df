"""The files in deploy/: the systemd units pass ``systemd-analyze verify``, the example
environment names real settings, and the Procfile, started with honcho against
PostgreSQL and Redis, takes a subscriber from the web form to a delivered digest."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from feedback.config import SETTINGS
from feedback.extensions import db
from tests.digest_support import SmtpSink, free_port
from tests.updates.conftest import update_data

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/14"  # a database of its own for the counters


@pytest.mark.once
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """Installed, the units run /opt/feedback/venv; here they point at this checkout's
    environment, so verify can check every command exists."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: apt-get install systemd (.ci/run does)"
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        text = unit.read_text().replace("/opt/feedback/venv", str(BIN.parent))
        (tmp_path / unit.name).write_text(text)
        if unit.name.endswith("@.service"):  # a template is verified as an instance
            instance = tmp_path / unit.name.replace("@.", "@1.")
            instance.symlink_to(tmp_path / unit.name)
            units.append(str(instance))
        else:
            units.append(str(tmp_path / unit.name))
    assert len(units) >= 6
    result = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True,
                            text=True, timeout=60)
    # verify exits 0 on some mistakes (an unknown Type= is "ignored"): any message fails.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr)


@pytest.mark.once
def test_the_example_environment_names_only_real_settings():
    names = {f"FEEDBACK_{setting.name}" for setting in SETTINGS}
    text = (DEPLOY / "feedback.env.example").read_text()
    used = set(re.findall(r"^#?\s*(FEEDBACK_[A-Z_]+)=", text, re.M))
    assert used and used <= names, used - names
    for required in ("FEEDBACK_ENV", "FEEDBACK_SECRET_KEY", "FEEDBACK_DATABASE_URL",
                     "FEEDBACK_BASE_URL", "FEEDBACK_RATELIMIT_STORAGE_URI"):
        assert re.search(rf"^{required}=", text, re.M), required


def test_the_procfile_names_web_scheduler_and_deliver():
    kinds = [line.split(":", 1)[0] for line in (DEPLOY / "Procfile").read_text().splitlines()
             if line and not line.startswith("#")]
    assert kinds == ["web", "scheduler", "deliver"]


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]


def _wait_for_messages(sink: SmtpSink, count: int, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while len(sink.messages) < count:
        assert time.monotonic() < deadline, f"{count} messages not sent: {log.read_text()[-3000:]}"
        time.sleep(0.2)


def _link(message, path: str) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(rf"http://\S+{path}\S+", body)[0]


@pytest.mark.long
@pytest.mark.postgres_only
def test_honcho_runs_the_procfile_from_subscription_to_delivered_digest(
        app, tmp_path, make_org, make_dataset):
    from redis import Redis

    from feedback.subscriptions.models import Audience, Cadence, Subscriber, SubscriberStatus
    from feedback.updates import services as updates

    assert Redis.from_url(REDIS_URL).ping(), "Redis must run at 127.0.0.1:6379"
    # The weekly platform digest, due already this week (Monday 00:00).
    db.session.add(Audience(name="Weekly digest", cadence=Cadence.WEEKLY, topics=[], areas=[],
                            organisation_ids=[], languages=[], filter_key="weekly|||",
                            sender_name="Feedback Loop", send_weekday=0, send_hour=0))
    db.session.commit()

    sink, port = SmtpSink().start(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("FEEDBACK_")}
    env.update(PATH=f"{BIN}:{env['PATH']}", PYTHONUNBUFFERED="1",
               FEEDBACK_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               FEEDBACK_SECRET_KEY=app.config["SECRET_KEY"], FEEDBACK_BASE_URL=base,
               FEEDBACK_RATELIMIT_STORAGE_URI=REDIS_URL, FEEDBACK_SMTP_HOST="127.0.0.1",
               FEEDBACK_SMTP_PORT=str(sink.port), FEEDBACK_SMTP_SECURITY="none",
               FEEDBACK_DELIVERY_CHANNEL="smtp", FEEDBACK_INSTANCE_PATH=str(tmp_path),
               # The scheduler looks for due digests every 2 s rather than every minute.
               FEEDBACK_EDITIONS_CHECK_SECONDS="2",
               WEB_CONCURRENCY="1")
    log = tmp_path / "honcho.log"
    with log.open("w") as output:
        honcho = subprocess.Popen(
            [str(BIN / "honcho"), "start", "--procfile", str(DEPLOY / "Procfile"),
             "--app-root", str(ROOT), "--no-colour", "--port", str(port)],
            env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        browser = requests.Session()
        deadline = time.monotonic() + 60
        while True:
            try:
                form = browser.get(f"{base}/subscribe", timeout=20)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert honcho.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.3)
        subscribed = browser.post(f"{base}/subscribe", timeout=30, data={
            "csrf_token": _csrf(form.text), "email": "reader@example.org", "language": "en",
            "cadence": "weekly"})
        assert subscribed.status_code == 200 and "/subscribe/check-email" in subscribed.url

        _wait_for_messages(sink, 1, 30, log)  # the web process sends the confirmation itself
        confirm_url = _link(sink.messages[0], "/subscribe/confirm/")
        confirm = browser.get(confirm_url, timeout=30)
        confirmed = browser.post(confirm_url, data={"csrf_token": _csrf(confirm.text)},
                                 timeout=30)
        assert confirmed.status_code == 200 and "/subscribe/confirmed" in confirmed.url
        db.session.rollback()
        assert db.session.scalar(select(Subscriber.status).where(
            Subscriber.email == "reader@example.org")) == SubscriberStatus.CONFIRMED

        # An organisation publishes; the scheduler makes the edition, a worker sends it.
        trust = make_org(name="Riverside Hospitals", slug="riverside")
        update = updates.create_update(None, trust, update_data(make_dataset(trust)))
        updates.publish_update(None, update)
        db.session.commit()
        _wait_for_messages(sink, 2, 90, log)
        digest = sink.messages[1]
        assert digest["To"] == "reader@example.org"
        assert "Faster pain relief for sickle cell crises" in digest.get_body(
            ("plain",)).get_content()
    finally:
        honcho.send_signal(signal.SIGTERM)  # as systemd or an operator's Ctrl-C would
        try:
            stopped = honcho.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(5)
            raise
        finally:
            sink.stop()
    output = log.read_text()
    assert "scheduler lock held" in output
    # Every process stopped when asked, by itself (status 0): none was killed.
    for kind in ("web", "scheduler", "deliver"):
        assert f"{kind}.1 stopped (rc=0)" in output, output[-3000:]
    assert "SIGKILL" not in output
    assert stopped == 128 + signal.SIGTERM  # honcho's own status after a SIGTERM
