"""Benchmark: memory while streaming an open data download of N rows.

    .venv/bin/python bench/opendata_stream.py --rows 100000 [--database postgresql+psycopg://...]

Fills a fresh database (a temporary SQLite file, or a new PostgreSQL database dropped
afterwards) with N published updates, then reads ``/open-data/updates.csv`` and
``.json`` through the WSGI app chunk by chunk, as a client would. Prints JSON: rows, bytes,
seconds and the Python heap peak (tracemalloc) at a tenth of the rows and at all of them;
flat memory means the two peaks are about the same.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback import create_app
from feedback.extensions import db


def fill(app, rows: int) -> None:
    from feedback.organisations.models import Organisation
    from feedback.updates.models import Update

    with app.app_context():
        org = Organisation(kind="nhs", name="Bench Trust", slug="bench-trust")
        db.session.add(org)
        db.session.flush()
        now = sa.func.now()
        batch = []
        for n in range(rows):
            batch.append({"organisation_id": org.id, "slug": f"update-{n}",
                          "title": f"Update number {n}", "summary": "A short summary " * 8,
                          "kind": "finding", "status": "published", "body": "",
                          "what_changed": "", "who_benefits": "", "purpose": "Bench",
                          "legal_basis": "", "opt_out_applied": "not_applicable",
                          "withdrawal_reason": ""})
            if len(batch) == 5000:
                db.session.execute(sa.insert(Update).values(published_at=now), batch)
                batch = []
        if batch:
            db.session.execute(sa.insert(Update).values(published_at=now), batch)
        db.session.commit()


def measure(app, kind: str, limit_rows: int) -> dict:
    client = app.test_client()
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(f"/open-data/updates.{kind}", buffered=False)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rows": limit_rows, "bytes": size, "seconds": round(time.perf_counter() - started, 2),
            "peak_heap_mb": round(peak / 1e6, 2)}


def run(urls: list[str], rows: int) -> dict:
    results = {}
    for url, count in zip(urls, (rows // 10, rows), strict=True):
        app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url,
                          "LOG_LEVEL": "WARNING", "RUN_SCHEDULER": False})
        with app.app_context():
            from flask_migrate import upgrade
            upgrade()
        fill(app, count)
        for kind in ("csv", "json"):
            results[f"{kind}_{count}"] = measure(app, kind, count)
        with app.app_context():
            db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    if args.database:
        names = [f"bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
        admin = sa.create_engine(args.database, isolation_level="AUTOCOMMIT",
                                 poolclass=sa.NullPool)
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            base = sa.engine.make_url(args.database)
            results = run([base.set(database=name).render_as_string(hide_password=False)
                           for name in names], args.rows)
        finally:
            with admin.connect() as connection:
                for name in names:
                    connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    else:
        with tempfile.TemporaryDirectory() as folder:
            results = run([f"sqlite:///{folder}/small.db", f"sqlite:///{folder}/large.db"],
                          args.rows)
    print(json.dumps({"benchmark": "opendata_stream", **results}, indent=2))


if __name__ == "__main__":
    main()
