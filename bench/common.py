"""Helpers the benchmarks share: a database named after the benchmark (dropped
afterwards), gunicorn on loopback, ``Server-Timing`` and ``/proc`` CPU readings."""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
TIMING = re.compile(r'app;dur=([\d.]+), cpu;dur=([\d.]+), db;desc="(\d+) queries"')
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def bench_database(url: str | None, name: str, workdir: Path) -> Iterator[str]:
    """SQLite in ``workdir`` by default. For a PostgreSQL URL, a fresh database named
    ``bench_<name>_<pid>`` on that server, dropped afterwards."""
    if url is None:
        yield f"sqlite:///{workdir / f'{name}.db'}"
        return
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield url
        return
    database = f"bench_{name}_{os.getpid()}"
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    try:
        yield parsed.set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def app_env(url: str, workdir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "FEEDBACK_DATABASE_URL": url, "FEEDBACK_SECRET_KEY": "bench",
            "FEEDBACK_RATELIMIT_ENABLED": "false", "FEEDBACK_LOG_LEVEL": "WARNING",
            "FEEDBACK_OUTBOX_DIR": str(workdir / "outbox"), "FEEDBACK_SERVER_TIMING": "1",
            "FEEDBACK_RUN_SCHEDULER": "0", "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}", **extra}


def serve(app_spec: str, env: dict, workers: int, logfile: Path, threads: int = 1,
          health: str = "/healthz") -> tuple[subprocess.Popen, str]:
    """gunicorn on a free loopback port, in its own process group."""
    port = free_port()
    with logfile.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads",
             str(threads), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "--graceful-timeout", "5", app_spec],
            cwd=str(ROOT), env=env, start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(url + health, timeout=10).status_code < 500:
                return process, url
        except requests.RequestException:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not start: {app_spec}; see {logfile}")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def worker_pids(master: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def server_timing(response: requests.Response) -> tuple[float, float, int]:
    """(app ms, CPU ms, SQL statements) from the ``Server-Timing`` header."""
    match = TIMING.search(response.headers.get("Server-Timing", ""))
    if match is None:
        raise RuntimeError(f"no Server-Timing header from {response.url}")
    return float(match[1]), float(match[2]), int(match[3])


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)], 2)}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (the machine is shared)."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
