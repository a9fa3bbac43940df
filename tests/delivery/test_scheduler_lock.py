"""The development server's own scheduler and a ``feedback scheduler`` beside it: real
processes, one lock. Only the holder runs jobs; the other waits as a standby."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.delivery.test_processes import FEEDBACK, _env, _wait_for
from tests.digest_support import free_port

ROOT = Path(__file__).resolve().parents[2]


def _flock_holders(path: Path) -> set[int]:
    """Process ids holding a ``flock`` on ``path``, read from ``/proc/locks``."""
    inode = os.stat(path).st_ino
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields:  # a waiter, not a holder
            continue
        if fields[1] == "FLOCK" and int(fields[5].rsplit(":", 1)[1]) == inode:
            holders.add(int(fields[4]))
    return holders


def test_the_dev_server_scheduler_holds_a_real_lock_and_a_second_scheduler_waits(
        app, tmp_path):
    lock_file = tmp_path / "scheduler.lock"
    on_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    env = _env(app, tmp_path, SCHEDULER_LOCK_FILE=str(lock_file), RUN_SCHEDULER="true",
               ENV="development")
    logs = {name: tmp_path / f"{name}.log" for name in ("run", "scheduler")}
    run = subprocess.Popen([FEEDBACK, "run", "--host", "127.0.0.1", "--port",
                            str(free_port())], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=logs["run"].open("w"))
    standby = None
    try:
        _wait_for(lambda: "scheduler lock held" in logs["run"].read_text(), 30,
                  "the development server's scheduler took no lock")
        if on_sqlite:  # PostgreSQL holds an advisory lock on the server instead
            _wait_for(lambda: _flock_holders(lock_file) == {run.pid}, 5,
                      "the lock is not held in /proc/locks by the development server")
        standby = subprocess.Popen([FEEDBACK, "scheduler", "--poll", "0.3"], env=env,
                                   cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=logs["scheduler"].open("w"))
        _wait_for(lambda: "standby" in logs["scheduler"].read_text(), 30,
                  "the second scheduler did not wait")
        assert "scheduler lock held" not in logs["scheduler"].read_text()
        assert not on_sqlite or _flock_holders(lock_file) == {run.pid}

        run.send_signal(signal.SIGTERM)
        run.wait(10)
        _wait_for(lambda: "scheduler lock held" in logs["scheduler"].read_text(), 10,
                  "the standby did not take over")
        assert not on_sqlite or _flock_holders(lock_file) == {standby.pid}
    finally:
        for process in (run, standby):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
