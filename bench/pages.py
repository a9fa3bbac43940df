"""Benchmark the public update pages under gunicorn, with load from ``wrk``.

    make bench-deps   # installs Debian's wrk if it is missing
    .venv/bin/python bench/pages.py --updates 100000 [--database URL] [--seconds 5]

Seeds a database with N published updates (SQLite in a temporary folder by default; a
PostgreSQL URL is created if missing and filled if empty). Three gunicorn servers run on
loopback, each with the same workers: a bare Flask "hello", the app with its page cache
and the app without it. For each page (home, the unfiltered list, a filtered list, a
deep list page, search, an update, the feed, the API list) ``wrk`` loads hello and then
the page, cached and uncached, one after the other in the same run, so the ratios compare
like with like. Server time is gunicorn's own (``%(D)s`` in its access log), CPU time per
request comes from /proc for the workers, and the SQL statements per page from the
``Server-Timing`` header. Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import (  # noqa: E402
    app_env,
    cpu_seconds,
    load_average,
    log,
    percentiles,
    serve,
    server_timing,
    stop,
    worker_pids,
)

WORDS = ["sickle", "cell", "pain", "relief", "emergency", "maternity", "interpreter",
         "diabetes", "foot", "check", "talking", "therapies", "ethnicity", "recording",
         "waiting", "times", "community", "clinic", "language", "appointment", "outcome",
         "audit", "hospital", "data", "record", "research"]
TOPICS = ["Sickle cell", "Maternity", "Diabetes", "Mental health", "Ethnicity recording",
          "Emergency care", "Interpreters", "Foot care", "Talking therapies", "Pain"]
AREAS = ["Birmingham", "Bradford", "North West London", "Leicester", "Manchester"]


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


ACCESS_FORMAT = "%(U)s %(D)s"


def wrk(url: str, seconds: float, connections: int) -> float:
    """Requests per second from one ``wrk`` run."""
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", url], check=True,
        capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"wrk said: {output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{url}: {errors[1]} error responses")
    return float(match[1])


class Server:
    """gunicorn with an access log that records each request's time in microseconds."""

    def __init__(self, app_spec: str, env: dict, workers: int, workdir: Path, name: str):
        self.log = workdir / f"{name}-access.log"
        self.errors = workdir / f"{name}.log"
        env = {**env, "GUNICORN_CMD_ARGS": f"--access-logfile {self.log} "
               f"--access-logformat '{ACCESS_FORMAT}'"}
        self.process, self.url = serve(app_spec, env, workers, self.errors, health="/")

    def load(self, path: str, seconds: float, connections: int) -> dict:
        pids = worker_pids(self.process)
        offset = self.log.stat().st_size if self.log.exists() else 0
        cpu_before = cpu_seconds(pids)
        rps = wrk(self.url + path, seconds, connections)
        cpu = cpu_seconds(pids) - cpu_before
        time.sleep(0.2)  # let the workers write their last log lines
        with self.log.open() as log_file:
            log_file.seek(offset)
            micros = [int(line.split()[-1]) for line in log_file if line.strip()]
        return {"rps": round(rps, 1), "server": percentiles([m / 1000 for m in micros]),
                "cpu_ms_per_request": round(cpu * 1000 / max(1, len(micros)), 2)}

    def stop(self) -> None:
        stop(self.process)
        text = self.errors.read_text(errors="replace") if self.errors.exists() else ""
        if "Traceback" in text:
            log(text[-3000:])


def statements(url: str) -> int:
    return server_timing(requests.get(url, timeout=60))[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite "
                        "in a temporary folder)")
    parser.add_argument("--seconds", type=float, default=5, help="wrk time per measurement")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--pages", default="", help="comma-separated page names to measure "
                        "(default: all)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench-deps`.")

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = prepare_database(args.database, workdir)
        started = time.perf_counter()
        params = seed(url, args.updates)
        seeded = round(time.perf_counter() - started, 1)
        pages = {
            "home": "/",
            "list": "/updates",
            "list_filtered": "/updates?topic=sickle-cell",
            "list_deep_page": f"/updates?cursor={params['cursor']}",
            "search": "/updates?q=interpreter+diabetes",
            "update": f"/updates/{params['slug']}",
            "feed": "/updates.atom?topic=sickle-cell",
            "api_list": "/api/v1/updates?per_page=20",
        }
        if args.pages:
            pages = {name: pages[name] for name in args.pages.split(",")}
        log(f"seeded {args.updates} updates in {seeded}s; measuring")
        env = app_env(url, workdir)
        servers = {
            "hello": Server("hello:app", env, args.workers, workdir, "hello"),
            "cached": Server("wsgi:app", {**env, "FEEDBACK_PAGE_CACHE_SECONDS": "600"},
                             args.workers, workdir, "cached"),
            "uncached": Server("wsgi:app", {**env, "FEEDBACK_PAGE_CACHE_SECONDS": "0"},
                               args.workers, workdir, "uncached"),
        }
        try:
            results = {}
            for name, path in pages.items():
                log(f"measuring {name}: {path}")
                for server in servers.values():  # warm up: templates, caches, pools
                    requests.get(server.url + (path if server is not servers["hello"]
                                               else "/"), timeout=60)
                hello = servers["hello"].load("/", args.seconds, args.connections)
                cached = servers["cached"].load(path, args.seconds, args.connections)
                uncached = servers["uncached"].load(path, args.seconds, args.connections)
                results[name] = {
                    "hello_rps": hello["rps"],
                    "hello_cpu_ms_per_request": hello["cpu_ms_per_request"],
                    "cached": {**cached, "ratio_to_hello": round(cached["rps"] / hello["rps"],
                                                                 3),
                               "statements": statements(servers["cached"].url + path)},
                    "uncached": {**uncached,
                                 "ratio_to_hello": round(uncached["rps"] / hello["rps"], 3),
                                 "statements": statements(servers["uncached"].url + path)},
                }
        finally:
            for server in servers.values():
                server.stop()
    print(json.dumps({
        "benchmark": "pages", "updates": args.updates,
        "database": sa.make_url(url).get_backend_name(), "seed_seconds": seeded,
        "server": f"gunicorn, {args.workers} sync workers",
        "load": f"wrk -t1 -c{args.connections} -d{args.seconds:g}s",
        "pages": results, "load_average": load_average()}))


if __name__ == "__main__":
    main()
