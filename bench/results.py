"""Benchmark: the results page and CSV of a round with many ballots, under gunicorn.

    .venv/bin/python bench/results.py --ballots 400000 --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Makes a database named after the benchmark (SQLite in a temporary folder by default; on a
PostgreSQL server, ``bench_results_<pid>``, dropped afterwards), seeds one round with N
ballots (1 to 3 choices each, descriptions for 30 %) by bulk insert (COPY on
PostgreSQL), then asks for the results page and the CSV, one request at a time, and reads
the server's own time from its ``Server-Timing`` header. The first request of a closed
round counts and stores; the rest read the stored counts. ``--phase voting`` measures an
open round instead (counted again after ``FEEDBACK_RESULTS_CACHE_SECONDS``). Prints one
line of JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    app_env,
    bench_database,
    load_average,
    log,
    percentiles,
    serve,
    server_timing,
    stop,
)

GROUPS = ["", "patients", "carers", "community", "staff"]
OPTIONS = ["African", "Bangladeshi", "Caribbean", "Indian", "Pakistani", "Polish", "Somali",
           "White British", "Any other background"]
DISTRICTS = [f"{area}{n}" for area in ("B", "BD", "LS", "M", "E", "NW") for n in range(1, 21)]


def seed(url: str, ballots: int, priorities: int, phase: str) -> str:
    """Migrate, make a round with a shortlist, and bulk-load the ballots. Returns the
    round's slug."""
    from flask_migrate import upgrade

    from feedback import create_app
    from feedback.extensions import db
    from feedback.priorities import models as m

    app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url,
                      "LOG_LEVEL": "WARNING", "RUN_SCHEDULER": False})
    with app.app_context():
        upgrade()
        round_ = m.PriorityRound(slug="national-round", title="National round",
                                 scope="Which research first?", phase=m.Phase(phase),
                                 hide_counts=False, max_choices=3)
        db.session.add(round_)
        db.session.flush()
        items = [m.Priority(round_id=round_.id, title=f"Question {n}")
                 for n in range(1, priorities + 1)]
        db.session.add_all(items)
        db.session.flush()
        version = m.ShortlistVersion(round_id=round_.id, number=1)
        version.entries = [m.ShortlistEntry(priority_id=p.id, position=n, title=p.title)
                           for n, p in enumerate(items, start=1)]
        db.session.add(version)
        db.session.commit()
        ids = [p.id for p in items]
        rng = random.Random(1)
        now = datetime.now(UTC)
        ballot_rows, choice_rows, description_rows = [], [], []
        choice_id = description_id = 0
        for ballot_id in range(1, ballots + 1):
            ballot_rows.append((ballot_id, round_.id, f"voter-{ballot_id}",
                                rng.choice(("online", "online", "code", "paper")), now))
            for rank, priority_id in enumerate(rng.sample(ids, rng.randint(1, 3)), start=1):
                choice_id += 1
                choice_rows.append((choice_id, ballot_id, priority_id, rank))
            if rng.random() < 0.3:
                description_id += 1
                description_rows.append((
                    description_id, ballot_id, rng.choice(["", "", "", "Mixed heritage"]),
                    json.dumps(rng.sample(OPTIONS, rng.choice((0, 1, 1, 2)))),
                    "", rng.choice([*DISTRICTS, ""]), rng.choice(GROUPS)))
        tables = [
            ("priority_ballots", ("id", "round_id", "voter_key", "method", "cast_at"),
             ballot_rows),
            ("priority_ballot_choices", ("id", "ballot_id", "priority_id", "rank"),
             choice_rows),
            ("priority_voter_descriptions", ("id", "ballot_id", "ethnicity_text",
                                             "ethnicity_options", "age_band",
                                             "postcode_district", "group"),
             description_rows),
        ]
        bulk_load(db.engine, tables)
        db.engine.dispose()
    return "national-round"


def bulk_load(engine: sa.Engine, tables: list) -> None:
    """COPY on PostgreSQL; one executemany transaction on SQLite."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns, rows in tables:
            quoted = ", ".join(f'"{c}"' for c in columns)
            if engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})",
                                   [tuple(v.isoformat(" ") if isinstance(v, datetime)
                                          else v for v in row) for row in rows])
        raw.commit()
        if engine.dialect.name == "postgresql":
            raw.autocommit = True
            raw.cursor().execute("ANALYZE")
    finally:
        raw.close()


def measure(url: str, requests_count: int) -> dict:
    session = requests.Session()
    first = session.get(url, timeout=300)
    first.raise_for_status()
    first_ms, _cpu, first_queries = server_timing(first)
    server, total, queries = [], [], set()
    for _ in range(requests_count):
        started = time.perf_counter()
        response = session.get(url, timeout=300)
        response.raise_for_status()
        total.append((time.perf_counter() - started) * 1000)
        app_ms, _cpu, count = server_timing(response)
        server.append(app_ms)
        queries.add(count)
    return {"first_ms": round(first_ms, 1), "first_queries": first_queries,
            "server": percentiles(server), "client_incl_body": percentiles(total),
            "queries": sorted(queries), "bytes": len(first.content)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=40_000)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL of a PostgreSQL "
                        "server (a database is made there and dropped); default: SQLite")
    parser.add_argument("--priorities", type=int, default=10)
    parser.add_argument("--requests", type=int, default=30, help="requests per URL")
    parser.add_argument("--phase", choices=("results", "voting"), default="results")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        with bench_database(args.database, "results", workdir) as url:
            started = time.perf_counter()
            slug = seed(url, args.ballots, args.priorities, args.phase)
            seeded = round(time.perf_counter() - started, 1)
            log(f"seeded {args.ballots} ballots in {seeded}s")
            logfile = workdir / "gunicorn.log"
            process, base = serve("wsgi:app", app_env(url, workdir), 1, logfile)
            try:
                page = measure(f"{base}/priorities/rounds/{slug}/results", args.requests)
                csv = measure(f"{base}/priorities/rounds/{slug}/results.csv", args.requests)
            finally:
                stop(process)
                if "Traceback" in logfile.read_text(errors="replace"):
                    log(logfile.read_text(errors="replace")[-3000:])
            backend = sa.make_url(url).get_backend_name()
    print(json.dumps({"benchmark": "results", "ballots": args.ballots, "database": backend,
                      "phase": args.phase, "seed_seconds": seeded, "page": page, "csv": csv,
                      "load_average": load_average()}))


if __name__ == "__main__":
    main()
