"""The one scheduler process (APScheduler 3.x).

APScheduler 3 cannot share a job store between processes, so exactly one scheduler may
run. It holds a lock first: a PostgreSQL session advisory lock, or on SQLite an exclusive
``flock`` on a file next to the database. A second copy waits as a standby and takes over
when the first one stops (the lock goes with the dead process's connection or file).

Jobs are plain importable functions that take ids; ``run_job`` gives each its own app
context, and each job commits its own work.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import os
import signal
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from feedback.extensions import db

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x46424C53  # "FBLS": Feedback Loop scheduler
APPLICATION_NAME = "feedback-scheduler "  # + host:pid, on the PostgreSQL lock connection
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600}


@dataclass(frozen=True)
class FromSetting:
    """A trigger argument read from the app's settings when the scheduler is built."""

    name: str


# (job id, "module:function", trigger arguments)
JOBS: tuple[tuple[str, str, dict], ...] = (
    ("create-due-editions", "feedback.digests.tasks:create_due_editions",
     {"trigger": "interval", "seconds": FromSetting("EDITIONS_CHECK_SECONDS")}),
    ("deliver-outbox", "feedback.delivery.tasks:deliver_outbox",
     {"trigger": "interval", "seconds": 15}),
    ("retry-failures", "feedback.delivery.tasks:retry_failures",
     {"trigger": "interval", "minutes": 5}),
    ("run-contact-imports", "feedback.subscriptions.tasks:run_contact_imports",
     {"trigger": "interval", "seconds": 5}),
    ("purge-unconfirmed", "feedback.subscriptions.tasks:purge_unconfirmed",
     {"trigger": "interval", "hours": 1}),
    ("purge-personal-data", "feedback.privacy.tasks:purge_personal_data",
     {"trigger": "interval", "hours": 1}),
    ("advance-round-phases", "feedback.priorities.tasks:advance_round_phases",
     {"trigger": "interval", "minutes": 5}),
    ("translate-pending", "feedback.translation.tasks:translate_pending",
     {"trigger": "interval", "minutes": 10}),
)


class MissingJob(RuntimeError):
    """A job in ``JOBS`` names a module or function that does not exist."""


def resolve(path: str) -> Callable:
    """The function at ``module:name``; ``MissingJob`` if there is none."""
    module_name, _, name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise MissingJob(f"scheduled job {path}: no module {error.name}") from error
    function = getattr(module, name, None)
    if not callable(function):
        raise MissingJob(f"scheduled job {path}: {module_name} has no function {name}")
    return function


def run_job(app: Flask, path: str, *args, job_id: str | None = None) -> None:
    """Run one job in its own app context (the job commits). With ``job_id``, its start
    and end are recorded for ``/metrics``."""
    function = resolve(path)
    with app.app_context():
        _record(job_id, started=True)
        try:
            function(*args)
        except Exception:
            log.exception("scheduled job %s failed", path)
            db.session.rollback()
            _record(job_id, started=False)
        else:
            _record(job_id, started=False, succeeded=True)


def _record(job_id: str | None, **state) -> None:
    if job_id is None:
        return
    from feedback.metrics.services import record_run

    try:
        record_run(job_id, **state)
    except Exception:  # the figures must never stop the job itself
        db.session.rollback()
        log.exception("could not record the run of scheduled job %s", job_id)


class SchedulerLock:
    """Held for the life of the scheduler; ``acquire`` waits while another copy holds it."""

    def __init__(self, app: Flask):
        self.app = app
        self.url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self._connection = None
        self._file = None

    @property
    def database_key(self) -> int:
        """Advisory locks are server-wide: key them by database too, so two databases on
        one server each get their own scheduler."""
        return zlib.crc32((self.url.database or "").encode()) & 0x7FFFFFFF

    @property
    def is_postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def lock_file(self) -> Path:
        configured = self.app.config.get("SCHEDULER_LOCK_FILE")
        if configured:
            return Path(configured)
        database = self.url.database
        if database and database != ":memory:":
            return Path(database + ".scheduler.lock")
        return Path(self.app.instance_path) / "scheduler.lock"

    def try_acquire(self) -> bool:
        if self.is_postgresql:
            if self._connection is None:
                engine = sa.create_engine(self.url, poolclass=sa.NullPool, connect_args={
                    "application_name": APPLICATION_NAME + _this_process()})
                self._connection = engine.connect()
            got = self._connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key, :database)"),
                {"key": ADVISORY_LOCK_KEY, "database": self.database_key}).scalar()
            self._connection.commit()
            return bool(got)
        path = self.lock_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        if self._file is None:
            self._file = open(path, "a+")  # noqa: SIM115 (held open while the lock is)
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._file.truncate(0)  # say who holds it, for /metrics
        self._file.write(_this_process() + "\n")
        self._file.flush()
        return True

    def holder(self) -> str | None:
        """``host:pid`` of the scheduler holding the lock, or None when none does."""
        if self.is_postgresql:
            with db.engine.connect() as connection:
                name = connection.execute(sa.text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.classid = :key AND l.objid = :database AND l.objsubid = 2"),
                    {"key": ADVISORY_LOCK_KEY, "database": self.database_key}).scalar()
            return name.removeprefix(APPLICATION_NAME) if name else None
        path = self.lock_file()
        if not path.exists():
            return None
        with open(path) as file:
            try:  # a shared lock is refused while a scheduler holds the exclusive one
                fcntl.flock(file.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return file.read().strip() or "unknown"
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            return None

    def acquire(self, poll_seconds: float = 5.0, stop: threading.Event | None = None) -> bool:
        announced = False
        while not (stop and stop.is_set()):
            if self.try_acquire():
                log.info("scheduler lock held by process %s", os.getpid())
                return True
            if not announced:
                log.info("another scheduler is running; waiting as a standby")
                announced = True
            time.sleep(poll_seconds)
        return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key, :database)"),
                    {"key": ADVISORY_LOCK_KEY, "database": self.database_key})
                self._connection.close()
            finally:
                self._connection = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def build_scheduler(app: Flask, *, blocking: bool):
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(job_defaults=JOB_DEFAULTS, timezone="UTC")
    for job_id, path, trigger in JOBS:
        resolve(path)  # a missing job stops the scheduler at start, not silently later
        trigger = {key: app.config[value.name] if isinstance(value, FromSetting) else value
                   for key, value in trigger.items()}
        # Run at start, then on the interval (passing next_run_time=None would pause it).
        scheduler.add_job(run_job, id=job_id, name=job_id, args=(app, path),
                          kwargs={"job_id": job_id},
                          replace_existing=True, next_run_time=_soon(), **trigger)
    return scheduler


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _soon():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def run_forever(app: Flask, poll_seconds: float = 5.0) -> None:
    """``feedback scheduler``: wait for the lock, then run the jobs until stopped."""
    signal.signal(signal.SIGTERM, _exit)
    lock = SchedulerLock(app)
    scheduler = None
    try:
        lock.acquire(poll_seconds)
        scheduler = build_scheduler(app, blocking=True)
        scheduler.start()
    finally:
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)  # let a running job finish and commit
        lock.release()


def _exit(signum, frame) -> None:
    """SIGTERM (systemd, honcho) stops the scheduler like Ctrl-C, with exit status 0."""
    raise SystemExit(0)


def start_in_background(app: Flask, poll_seconds: float = 5.0) -> threading.Thread:
    """Run the scheduler in a daemon thread of this process (the development server).

    The lock and the scheduler are kept in ``app.extensions`` for the life of the process:
    a lock held only by a local variable is closed, and so released, by the garbage
    collector as soon as the thread's function returns."""
    lock = app.extensions["feedback_scheduler_lock"] = SchedulerLock(app)

    def target() -> None:
        if lock.acquire(poll_seconds):
            scheduler = build_scheduler(app, blocking=False)
            app.extensions["feedback_scheduler"] = scheduler
            scheduler.start()

    thread = threading.Thread(target=target, name="feedback-scheduler", daemon=True)
    thread.start()
    return thread


def maybe_start_in_dev_server(app: Flask) -> None:
    """``make run``/``feedback run`` runs the scheduler too, in development only. With the
    reloader on, only the child process that serves requests starts it; the lock would
    stop a second copy anyway."""
    from werkzeug.serving import is_running_from_reloader

    config = app.config
    if (config.get("TESTING") or config["ENV"] == "production" or not config["RUN_SCHEDULER"]
            or sys.argv[1:2] != ["run"]):
        return
    reloading = app.debug or "--reload" in sys.argv
    if reloading and not is_running_from_reloader():
        return
    if app.extensions.get("feedback_scheduler_thread") is None:
        app.extensions["feedback_scheduler_thread"] = start_in_background(app)
