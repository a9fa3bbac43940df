"""Benchmark the public update pages under gunicorn.

    .venv/bin/python bench/pages.py --updates 100000 [--database URL] [--requests 300]

Seeds a database with N published updates (SQLite in a temporary folder by default; a
PostgreSQL URL is created if missing and filled if empty), serves the app with gunicorn on
loopback, and measures each page from this process: home, filtered list, a deep list page,
search, update page, feed and API list. A bare Flask "hello" app is measured under the same
server in the same run, and each page's throughput is given as a ratio to it. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ["sickle", "cell", "pain", "relief", "emergency", "maternity", "interpreter",
         "diabetes", "foot", "check", "talking", "therapies", "ethnicity", "recording",
         "waiting", "times", "community", "clinic", "language", "appointment", "outcome",
         "audit", "hospital", "data", "record", "research"]
TOPICS = ["Sickle cell", "Maternity", "Diabetes", "Mental health", "Ethnicity recording",
          "Emergency care", "Interpreters", "Foot care", "Talking therapies", "Pain"]
AREAS = ["Birmingham", "Bradford", "North West London", "Leicester", "Manchester"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(url: str | None, workdir: Path) -> str:
    if url is None:
        return f"sqlite:///{workdir / 'bench.db'}"
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                       {"n": parsed.database})
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    return url


def seed(url: str, count: int) -> dict:
    """Migrate, then add organisations, a catalogue and ``count`` published updates with
    bulk inserts (the services are too slow for 100k rows). Returns page parameters."""
    from flask_migrate import upgrade

    from feedback import create_app
    from feedback.extensions import db
    from feedback.updates import models as m

    app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url,
                      "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade()
        existing = db.session.scalar(sa.select(sa.func.count(m.Update.id)))
        if existing < count:
            _bulk_seed(db, m, count - existing, offset=existing)
        if db.engine.dialect.name == "postgresql":
            # Planner statistics, as autovacuum would gather after a bulk load: without
            # them PostgreSQL guesses a few rows and sorts every match (0.4 s, not 1 ms).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
        slug = db.session.scalar(sa.select(m.Update.slug).order_by(m.Update.id).limit(1))
        middle = db.session.execute(
            sa.select(m.Update.published_at, m.Update.id)
            .order_by(m.Update.published_at.desc(), m.Update.id.desc())
            .offset(count // 2).limit(1)).one()
        db.engine.dispose()
    cursor = f"{int(middle[0].timestamp() * 1_000_000)}-{middle[1]}"
    return {"slug": slug, "cursor": cursor}


def _bulk_seed(db, m, count: int, offset: int) -> None:
    from feedback.organisations.models import Dataset, Organisation, Service

    random.seed(offset)
    now = datetime.now(UTC)
    orgs = db.session.scalars(sa.select(Organisation.id)).all()
    if not orgs:
        db.session.execute(sa.insert(Organisation), [
            {"kind": "nhs", "name": f"Bench Trust {n}", "slug": f"bench-trust-{n}",
             "area": random.choice(AREAS), "website": "", "description": "",
             "verified": True, "created_at": now} for n in range(10)])
        orgs = db.session.scalars(sa.select(Organisation.id)).all()
        db.session.execute(sa.insert(Dataset), [
            {"organisation_id": orgs[n % 10], "name": f"Dataset {n}", "slug": f"dataset-{n}",
             "custodian_name": "", "description": "", "link": "", "created_at": now}
            for n in range(30)])
        db.session.execute(sa.insert(Service), [
            {"organisation_id": orgs[n % 10], "name": f"Service {n}", "slug": f"service-{n}",
             "area": "", "description": "", "created_at": now} for n in range(20)])
        db.session.execute(sa.insert(m.Term), [
            {"kind": "topic", "slug": t.lower().replace(" ", "-"), "name": t} for t in TOPICS]
            + [{"kind": "area", "slug": a.lower().replace(" ", "-"), "name": a}
               for a in AREAS])
    datasets = db.session.scalars(sa.select(Dataset.id)).all()
    services = db.session.scalars(sa.select(Service.id)).all()
    terms = db.session.scalars(sa.select(m.Term.id)).all()
    batch = 2000
    for start in range(offset, offset + count, batch):
        size = min(batch, offset + count - start)
        rows = []
        for n in range(start, start + size):
            words = " ".join(random.choices(WORDS, k=12))
            rows.append({
                "organisation_id": random.choice(orgs), "slug": f"bench-update-{n}",
                "title": f"Update {n}: {' '.join(random.choices(WORDS, k=5))}",
                "summary": f"What we found about {words}."[:300],
                "body": f"## What we found\n\n{words}. " * 8, "kind": "finding",
                "what_changed": words, "who_benefits": "Local communities.",
                "purpose": "Service evaluation.", "legal_basis": "Direct care.",
                "opt_out_applied": "not_applicable", "status": "published",
                "withdrawal_reason": "", "created_at": now, "updated_at": now,
                "published_at": now - timedelta(minutes=n)})
        db.session.execute(sa.insert(m.Update), rows)
        ids = db.session.execute(
            sa.select(m.Update.id).where(m.Update.slug.in_([r["slug"] for r in rows]))
        ).scalars().all()
        db.session.execute(sa.insert(m.update_datasets), [
            {"update_id": i, "dataset_id": random.choice(datasets)} for i in ids])
        db.session.execute(sa.insert(m.update_services), [
            {"update_id": i, "service_id": random.choice(services)} for i in ids])
        db.session.execute(sa.insert(m.update_terms), [
            {"update_id": i, "term_id": term} for i in ids
            for term in random.sample(terms, 3)])
        db.session.commit()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def serve(app_spec: str, env: dict, workers: int, logfile: Path
          ) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with logfile.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
             f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
            cwd=str(ROOT), env=env, start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/", timeout=10)
            return process, url
        except requests.RequestException:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not start: {app_spec}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def measure(url: str, total: int, concurrency: int) -> dict:
    def one(_n: int) -> float:
        started = time.perf_counter()
        response = requests.get(url, timeout=60)
        response.raise_for_status()
        return time.perf_counter() - started

    for _ in range(3):  # warm up each worker
        one(0)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(pool.map(one, range(total)))
    elapsed = time.perf_counter() - started
    return {"p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
            "rps": round(total / elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite "
                        "in a temporary folder)")
    parser.add_argument("--requests", type=int, default=300, help="Requests per page")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = prepare_database(args.database, workdir)
        started = time.perf_counter()
        params = seed(url, args.updates)
        seeded = round(time.perf_counter() - started, 1)
        env = {**os.environ, "FEEDBACK_DATABASE_URL": url, "FEEDBACK_SECRET_KEY": "bench",
               "FEEDBACK_RATELIMIT_ENABLED": "false", "FEEDBACK_LOG_LEVEL": "WARNING",
               "FEEDBACK_OUTBOX_DIR": str(workdir / "outbox"),
               "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"}
        pages = {
            "home": "/",
            "list_filtered": "/updates?topic=sickle-cell",
            "list_deep_page": f"/updates?cursor={params['cursor']}",
            "search": "/updates?q=interpreter+diabetes",
            "update": f"/updates/{params['slug']}",
            "feed": "/updates.atom?topic=sickle-cell",
            "api_list": "/api/v1/updates?per_page=20",
        }
        logfile = workdir / "gunicorn.log"
        log(f"seeded {args.updates} updates in {seeded}s; measuring")
        hello_process, hello_url = serve("hello:app", env, args.workers, logfile)
        try:
            hello = measure(hello_url + "/", args.requests, args.concurrency)
        finally:
            stop(hello_process)
        app_process, app_url = serve("wsgi:app", env, args.workers, logfile)
        try:
            results = {}
            for name, path in pages.items():
                log(f"measuring {name}: {path}")
                results[name] = measure(app_url + path, args.requests, args.concurrency)
                results[name]["ratio_to_hello"] = round(results[name]["rps"] / hello["rps"],
                                                        3)
        finally:
            stop(app_process)
            errors = logfile.read_text(errors="replace")
            if "Traceback" in errors:
                log(errors[-3000:])
    print(json.dumps({
        "updates": args.updates, "database": sa.make_url(url).get_backend_name(),
        "seed_seconds": seeded, "server": f"gunicorn, {args.workers} sync workers",
        "concurrency": args.concurrency, "requests_per_page": args.requests,
        "hello": hello, "pages": results}, indent=2))


if __name__ == "__main__":
    main()
