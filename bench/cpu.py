"""CPU milliseconds per request for the public pages and a ballot, in one process.

    .venv/bin/python bench/cpu.py --updates 20000 [--database URL] [--requests 200]
    .venv/bin/python bench/cpu.py --updates 2000 --profile list   # cProfile, top 40

Wall-clock throughput on a shared machine moves with everyone else's load; the process's
own CPU time (``time.process_time``) around N requests through Flask's test client barely
does. Seeds like bench/pages.py, then for each page measures a bare Flask hello, the page
served from the page cache and the page rendered afresh, one after the other, plus the SQL
statements per request. Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import load_average, log
from pages import prepare_database, seed


def cpu_ms(client, path: str, count: int, miss: bool = False) -> float:
    """CPU ms per request. ``miss``: a query argument no page reads makes each request a
    page-cache miss, while the fragments kept apart from pages (menus) stay cached, as
    for a page nobody asked for in the last minute."""
    client.get(path)  # warm up
    separator = "&" if "?" in path else "?"
    started = time.process_time()
    for number in range(count):
        response = client.get(f"{path}{separator}bench={number}" if miss else path)
        assert response.status_code == 200, (path, response.status_code)
    return round((time.process_time() - started) * 1000 / count, 3)


def statements(app, path: str) -> int:
    from sqlalchemy import event

    from feedback.extensions import db

    seen = []

    def count(*_args) -> None:
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        app.test_client().get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--database", default=None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pages", default="")
    parser.add_argument("--profile", default="", help="a page name: print its cProfile")
    args = parser.parse_args()

    from hello import app as hello

    from feedback import create_app

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = prepare_database(args.database, workdir)
        params = seed(url, args.updates)
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
        settings = {"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url,
                    "LOG_LEVEL": "WARNING", "RATELIMIT_ENABLED": False,
                    "RUN_SCHEDULER": False, "SECRET_KEY": "bench",
                    "OUTBOX_DIR": str(workdir / "outbox")}
        cached = create_app({**settings, "PAGE_CACHE_SECONDS": 600})
        uncached = create_app({**settings, "PAGE_CACHE_SECONDS": 0})
        if args.profile:
            path = pages[args.profile]
            client = uncached.test_client()
            client.get(path)
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            for _ in range(args.requests):
                client.get(path)
            profile.disable()
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(60)
            pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)
            return
        results = {}
        for name, path in pages.items():
            log(f"measuring {name}: {path}")
            hello_ms = cpu_ms(hello.test_client(), "/", args.requests)
            results[name] = {
                "hello_cpu_ms": hello_ms,
                "cached_cpu_ms": cpu_ms(cached.test_client(), path, args.requests),
                "miss_cpu_ms": cpu_ms(cached.test_client(), path,
                                      max(10, args.requests // 4), miss=True),
                "uncached_cpu_ms": cpu_ms(uncached.test_client(), path,
                                          max(10, args.requests // 4)),
                "cached_statements": statements(cached, path),
                "uncached_statements": statements(uncached, path),
            }
    print(json.dumps({"benchmark": "cpu", "updates": args.updates,
                      "database": sa.make_url(url).get_backend_name(), "pages": results,
                      "load_average": load_average()}))


if __name__ == "__main__":
    main()
