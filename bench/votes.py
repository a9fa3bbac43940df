"""Benchmark: concurrent ballot submissions through the WSGI app under gunicorn.

    .venv/bin/python bench/votes.py --voters 500 --database postgresql+psycopg://postgres@127.0.0.1:5432/bench

It migrates the database, sets up a round in its voting phase with N one-time ballot
codes, starts gunicorn on loopback, and has many clients vote at once through ``wrk``
and bench/votes.lua (each voter fetches the form with no cookie for its session and CSRF
token, then posts it on a connection of its own). ``wrk`` is C: Python client threads
on the same two cores took a third of the CPU and capped what the server was asked. A
tenth of the codes are also tried again, interleaved with the first attempts, and must
all be refused. The workers' CPU time (from /proc) is divided by the ballots taken.
Prints one line of JSON:
``{"ballots", "lost", "duplicates_accepted", "ballots_per_s", "server_cpu_ms_per_ballot",
...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import bench_database, cpu_seconds, load_average, worker_pids  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(database: str, secret: str, voters: int) -> tuple[str, int, list[str], list[int]]:
    """Migrate, then make a round in voting with ``voters`` codes. Returns its slug, id,
    the codes and the shortlisted priority ids."""
    from flask_migrate import upgrade

    from feedback import create_app
    from feedback.accounts import services as accounts
    from feedback.extensions import db
    from feedback.organisations import services as organisations
    from feedback.priorities import services
    from feedback.priorities.models import Phase

    app = create_app({"DATABASE_URL": database, "SQLALCHEMY_DATABASE_URI": database,
                      "SECRET_KEY": secret, "LOG_LEVEL": "WARNING"})
    with app.app_context(), app.test_request_context():
        upgrade()
        suffix = secrets.token_hex(3)
        org = organisations.create_organisation(None, {"kind": "nhs",
                                                       "name": f"Bench Trust {suffix}"})
        round_ = services.create_round(None, [org], {
            "title": f"Benchmark round {suffix}", "scope": "Which question first?",
            "groups": ["patients", "community"]})
        db.session.flush()
        from feedback.priorities.models import Priority

        priorities = []
        for number in range(1, 6):
            priority = Priority(round_id=round_.id, title=f"Question {number}")
            db.session.add(priority)
            priorities.append(priority)
        db.session.flush()
        from feedback.priorities.models import ShortlistEntry, ShortlistVersion

        version = ShortlistVersion(round_id=round_.id, number=1)
        version.entries = [ShortlistEntry(priority_id=p.id, position=i, title=p.title)
                           for i, p in enumerate(priorities, start=1)]
        db.session.add(version)
        round_.phase = Phase.VOTING
        codes: list[str] = []
        organiser = accounts.create_user(f"bench-{suffix}@example.org")
        accounts.add_member(None, org, organiser, "editor")
        db.session.refresh(organiser)
        while len(codes) < voters:
            size = min(500, voters - len(codes))
            _batch, made = services.create_code_batch(organiser, round_, size)
            codes.extend(made)
        db.session.commit()
        result = round_.slug, round_.id, codes, [p.id for p in priorities]
        db.engine.dispose()
    return result


def count_ballots(database: str, secret: str, round_id: int) -> int:
    from sqlalchemy import func, select

    from feedback import create_app
    from feedback.extensions import db
    from feedback.priorities.models import Ballot

    app = create_app({"DATABASE_URL": database, "SQLALCHEMY_DATABASE_URI": database,
                      "SECRET_KEY": secret, "LOG_LEVEL": "WARNING"})
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Ballot)
                                  .where(Ballot.round_id == round_id))
        db.engine.dispose()
    return total


def start_gunicorn(database: str, secret: str, port: int, workers: int, threads: int):
    env = {**os.environ, "FEEDBACK_DATABASE_URL": database, "FEEDBACK_SECRET_KEY": secret,
           "FEEDBACK_RATELIMIT_ENABLED": "false", "FEEDBACK_LOG_LEVEL": "WARNING",
           "FEEDBACK_BASE_URL": f"http://127.0.0.1:{port}"}
    # Its output goes to a file, so the server never holds the caller's pipes open.
    fd, log_name = tempfile.mkstemp(prefix="bench-votes-gunicorn-", suffix=".log")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
         str(workers), "--threads", str(threads), "--graceful-timeout", "5",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=fd, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    os.close(fd)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200:
                return process
        except requests.RequestException:  # not listening yet, or busy starting
            time.sleep(0.5)
    stop(process)
    raise SystemExit(f"gunicorn did not start; see {log_name}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def vote_with_wrk(base: str, slug: str, attempts: list[tuple[str, list[int]]],
                  clients: int, folder: Path) -> list[tuple[str, int, bool]]:
    """Cast ``attempts`` (code, choices) through ``wrk`` and bench/votes.lua, ``clients``
    voters at a time. Returns (code, status, refused with the message) for each."""
    for number in range(clients):
        lines = [f"{code} {','.join(map(str, choices))}\n"
                 for code, choices in attempts[number::clients]]
        (folder / f"attempts-{number}.txt").write_text("".join(lines))
    process = subprocess.Popen(
        ["wrk", f"-t{clients}", f"-c{clients}", "-d3600s", "--timeout", "60s", "-s",
         str(ROOT / "bench" / "votes.lua"), f"{base}/priorities/rounds/{slug}/vote/code",
         "--", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while (process.poll() is None
           and sum(1 for _ in folder.glob("finished-*")) < clients):
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)  # wrk waits out its -d time otherwise
    output, _ = process.communicate(timeout=60)
    outcomes = []
    for number in range(clients):
        outcome_file = folder / f"outcomes-{number}.txt"
        if outcome_file.exists():
            for line in outcome_file.read_text().splitlines():
                code, status, refused = line.split()
                outcomes.append((code, int(status), refused == "1"))
    if len(outcomes) != len(attempts):
        raise SystemExit(f"wrk cast {len(outcomes)} of {len(attempts)} ballots: "
                         f"{output[-3000:]}")
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of a PostgreSQL "
                        "server: a database bench_votes_<pid> is made there and dropped")
    parser.add_argument("--clients", type=int, default=16, help="voters at once (wrk "
                        "threads, one connection each)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench-deps`.")
    with tempfile.TemporaryDirectory() as folder, \
            bench_database(args.database, "votes", Path(folder)) as database:
        run(args, database, Path(folder))


def run(args: argparse.Namespace, database: str, folder: Path) -> None:
    args.database = database
    secret = secrets.token_urlsafe(32)
    slug, round_id, codes, priorities = prepare(args.database, secret, args.voters)
    reuses = codes[: max(1, args.voters // 10)]
    port = _free_port()
    server = start_gunicorn(args.database, secret, port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    # First attempts and reuses are interleaved, so some reuses race their first use.
    attempts = [(code, False) for code in codes]
    for index, code in enumerate(reuses):
        attempts.insert(min(len(attempts), index * 10 + 5), (code, True))
    try:
        for _ in range(4 * args.workers):  # warm up: imports, templates, pools
            requests.get(f"{base}/priorities/rounds/{slug}/vote/code", timeout=60)
        pids = worker_pids(server)
        cpu_before = cpu_seconds(pids)
        started = time.perf_counter()
        outcomes = vote_with_wrk(
            base, slug, [(code, priorities[: 1 + hash(code) % 3]) for code, _again in attempts],
            args.clients, folder)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pids) - cpu_before
    finally:
        stop(server)

    accepted = [(code, status) for code, status, _refused in outcomes if status == 302]
    refused_clearly = sum(1 for _code, status, refused in outcomes if status == 400 and refused)
    errors = sum(1 for _code, status, _refused in outcomes if status not in (302, 400))
    accepted_codes = [code for code, _status in accepted]
    duplicates = len(accepted_codes) - len(set(accepted_codes))
    ballots = count_ballots(args.database, secret, round_id)
    print(json.dumps({
        "ballots": ballots,
        "lost": max(0, len(set(accepted_codes)) - ballots),
        "duplicates_accepted": duplicates + max(0, ballots - args.voters),
        "ballots_per_s": round(len(accepted) / elapsed, 1),
        "server_cpu_ms_per_ballot": round(cpu * 1000 / max(1, len(accepted)), 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(1, 2 * len(attempts)), 2),
        "voters": args.voters,
        "reuse_attempts": len(reuses),
        "reuses_refused_with_message": refused_clearly,
        "server_errors": errors,
        "seconds": round(elapsed, 2),
        "gunicorn": f"{args.workers} workers x {args.threads} threads",
        "clients": args.clients,
        "load_average": load_average(),
    }))


if __name__ == "__main__":
    main()
