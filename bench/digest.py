"""Benchmark: one edition to N subscribers in L languages, delivered over real SMTP.

    .venv/bin/python bench/digest.py --subscribers 50000 --languages 5 \
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--workers 2]

Seeds N confirmed subscribers across L languages in a fresh database (a temporary SQLite
file, or a new database on the given PostgreSQL server, dropped afterwards), creates the
edition (rendering each language once), and delivers it with ``feedback deliver``-style
workers to an aiosmtpd sink in its own process on loopback. In the same run, with as many
SMTP connections as the workers hold, it then sends the sink copies of the first
recipient's message, rendered beforehand the worker's way, to measure the sink's own
ceiling: ``ratio_to_sink`` says how close the workers came to it. The database is named
``bench_digest_<id>`` and dropped afterwards. Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import socket
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import configure_mappers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback import create_app
from feedback.config import SETTINGS
from feedback.extensions import db

CEILING_DOMAIN = "@ceiling.example"


def send_prerendered(port: int, message: bytes, count: int, ready, go, queue) -> None:
    """One SMTP connection sending ``count`` copies of a rendered message, as fast as the
    sink takes them."""
    import smtplib

    with smtplib.SMTP("127.0.0.1", port) as smtp:
        ready.release()
        go.wait()
        for n in range(count):
            smtp.sendmail("bench@feedback.example", [f"reader{n}{CEILING_DOMAIN}"], message)
    queue.put(count)


def sink_ceiling(context, port: int, message: bytes, total: int, connections: int) -> float:
    """Messages per second the sink takes from ``connections`` connections at once."""
    queue, ready, go = context.Queue(), context.Semaphore(0), context.Event()
    share = max(1, total // connections)
    senders = [context.Process(target=send_prerendered,
                               args=(port, message, share, ready, go, queue))
               for _ in range(connections)]
    for sender in senders:
        sender.start()
    for _sender in senders:
        ready.acquire()
    started = time.perf_counter()
    go.set()
    sent = sum(queue.get() for _ in senders)
    seconds = time.perf_counter() - started
    for sender in senders:
        sender.join()
    return sent / seconds


def first_message() -> bytes:
    """The bytes a worker sends the first recipient, rendered the worker's way (claimed,
    rendered, then put back as it was), for the sink's ceiling."""
    from sqlalchemy import update

    from feedback.delivery.channels import OutboxChannel
    from feedback.delivery.models import DeliveryStatus
    from feedback.delivery.services import Worker, claim_batch
    from feedback.digests.models import Delivery
    from feedback.digests.sending import DigestQueue

    queue = DigestQueue(Worker(channel=OutboxChannel()))
    token = claim_batch(1, queue=DigestQueue)
    row = queue.claimed(token)[0]
    message = queue.outgoing(row).raw
    db.session.execute(update(Delivery).where(Delivery.id == row.id).values(
        status=DeliveryStatus.PENDING, claim_token=None, claimed_at=None, attempts=0))
    db.session.commit()
    return message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_sink(port: int, ready, pipe) -> None:
    """An aiosmtpd server that only counts recipients (in its own process and core)."""
    from aiosmtpd.controller import Controller

    counts: Counter = Counter()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            counts.update(r for r in envelope.rcpt_tos if not r.endswith(CEILING_DOMAIN))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    pipe.recv()  # wait for "report"
    usage = resource.getrusage(resource.RUSAGE_SELF)
    pipe.send((dict(counts), usage.ru_utime + usage.ru_stime))
    controller.stop()


def peak_rss_mb() -> float:
    """This process's own peak resident memory (``VmHWM``). Not ``ru_maxrss``: Linux
    carries that across ``exec`` from the moment the process was forked, so it reports the
    benchmark's parent (which grows with the subscribers it seeded) as much as the
    worker."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def deliver_in_process(url: str, port: int, secret: str, batch: int, connections: int,
                       queue, ready, go) -> None:
    app = create_app(_config(url, port, secret, batch, connections))
    with app.app_context():
        from feedback.delivery.services import Worker

        worker = Worker()
        # Ready before it is timed, as the ceiling's senders are connected before theirs:
        # the ORM's one-off set-up (~0.1 s) and the database connection.
        configure_mappers()
        db.session.execute(sa.select(1))
        db.session.commit()
        ready.release()
        go.wait()  # time delivery, not interpreter start-up
        before = resource.getrusage(resource.RUSAGE_SELF)
        sent = worker.run(until_idle=True)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        queue.put((sent, peak_rss_mb(), cpu))


def deliver_with_workers(context, url: str, port: int, secret: str, batch: int,
                         connections: int, count: int) -> tuple[float, list]:
    """Start ``count`` worker processes, let them go together and wait for them all.
    Returns the seconds they took and each one's (sent, peak RSS MB, CPU seconds)."""
    queue, ready, go = context.Queue(), context.Semaphore(0), context.Event()
    workers = [context.Process(target=deliver_in_process,
                               args=(url, port, secret, batch, connections, queue, ready,
                                     go))
               for _ in range(count)]
    for worker in workers:
        worker.start()
    for _worker in workers:
        ready.acquire()
    started = time.perf_counter()
    go.set()
    results = [queue.get() for _ in workers]
    seconds = time.perf_counter() - started  # not the processes' exit, as for the ceiling
    for worker in workers:
        worker.join()
    return seconds, results


def _config(url: str, port: int, secret: str, batch: int, connections: int = 1) -> dict:
    return {"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secret,
            "SMTP_CONNECTIONS": connections,
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_SECURITY": "none",
            "DELIVERY_CHANNEL": "smtp", "DELIVERY_BATCH_SIZE": batch, "LOG_LEVEL": "WARNING",
            "RUN_SCHEDULER": False, "BASE_URL": "https://feedback.example"}


def fresh_database(server_url: str | None, workdir: Path) -> tuple[str, callable]:
    if not server_url or server_url.startswith("sqlite"):
        return f"sqlite:///{workdir / 'bench.db'}", lambda: None
    name = f"bench_digest_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    url = sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, drop


@contextmanager
def database_and_sink(database: str | None) -> Iterator[tuple]:
    """A fresh database and an SMTP sink in its own process, both gone afterwards. Yields
    (database URL, sink port, secret key, multiprocessing context, pipe to the sink: send
    "report" to get its recipient counts and CPU seconds)."""
    workdir = Path(tempfile.mkdtemp(prefix="feedback-bench-"))
    url, drop = fresh_database(database, workdir)
    port, secret = free_port(), "bench-secret"
    context = multiprocessing.get_context("spawn")
    ready, (parent_end, child_end) = context.Event(), context.Pipe()
    sink = context.Process(target=run_sink, args=(port, ready, child_end), daemon=True)
    sink.start()
    ready.wait(30)
    try:
        yield url, port, secret, context, parent_end
    finally:
        sink.join(10)
        if sink.is_alive():
            sink.terminate()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--languages", type=int, default=3)
    parser.add_argument("--database", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--connections", type=int, default=None, help="SMTP connections "
                        "each worker holds (default: FEEDBACK_SMTP_CONNECTIONS, else the "
                        "setting's default); the sink's ceiling is measured over as many "
                        "connections as all the workers hold")
    parser.add_argument("--ceiling-messages", type=int, default=5000)
    args = parser.parse_args()
    default = next(setting.default for setting in SETTINGS if setting.name == "SMTP_CONNECTIONS")
    per_worker = args.connections or int(os.environ.get("FEEDBACK_SMTP_CONNECTIONS", default))
    connections = args.workers * per_worker

    with database_and_sink(args.database) as (url, port, secret, context, parent_end):
        app = create_app(_config(url, port, secret, args.batch))
        with app.app_context():
            from flask_migrate import upgrade
            from sqlalchemy import func, select

            from feedback.core.languages import DEFAULT_LANGUAGES
            from feedback.digests import services
            from feedback.digests.models import EditionVersion
            from feedback.subscriptions.models import Audience, Cadence, Subscriber

            upgrade()
            languages = [language.code for language in DEFAULT_LANGUAGES[:args.languages]]
            app.extensions["feedback_digest_sources"] = [lambda since, until: [
                {"kind": "update", "id": n, "title": f"Update {n}: what your data led to",
                 "summary": "A clinic now opens at weekends because of what the data showed.",
                 "url": f"https://feedback.example/updates/{n}", "published_at": "",
                 "organisation": "Riverside", "topics": [], "areas": [], "language": "en",
                 "priority": False} for n in range(8)]]
            audience = Audience(name="Benchmark digest", cadence=Cadence.WEEKLY,
                                languages=languages, sender_name="Bench")
            db.session.add(audience)
            db.session.commit()
            rows = [{"audience_id": audience.id, "email": f"reader{n}@example.org",
                     "name": f"Reader {n}", "phone": "", "language": languages[n % len(
                         languages)], "status": "confirmed"} for n in range(args.subscribers)]
            for start in range(0, len(rows), 5000):
                db.session.execute(sa.insert(Subscriber), rows[start:start + 5000])
            db.session.commit()
            del rows
            if db.engine.dialect.name == "postgresql":
                # A live site's tables have statistics (autovacuum keeps them); freshly
                # seeded ones have none, and the planner would guess them empty.
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()

            started = time.perf_counter()
            edition = services.create_and_start(audience.id, "2026-W47")
            db.session.commit()
            create_seconds = time.perf_counter() - started
            renders = db.session.scalar(select(func.count()).select_from(EditionVersion).where(
                EditionVersion.edition_id == edition.id))
            prerendered = first_message()
            db.session.remove()
            db.engine.dispose()

        seconds, results = deliver_with_workers(context, url, port, secret, args.batch,
                                                per_worker, args.workers)
        ceiling = sink_ceiling(context, port, prerendered,
                               min(args.ceiling_messages, max(args.subscribers, 100)),
                               connections)
        parent_end.send("report")
        counts, sink_cpu = parent_end.recv()

    delivered = sum(counts.values())
    print(json.dumps({
        "recipients": args.subscribers,
        "delivered": delivered,
        "unique_recipients": len(counts),
        "duplicates": delivered - len(counts),
        "messages_per_s": round(delivered / seconds, 1),
        "sink_ceiling_messages_per_s": round(ceiling, 1),
        "ratio_to_sink": round(delivered / seconds / ceiling, 3),
        "smtp_connections": connections,  # for the sink's ceiling and all the workers
        "messages_per_s_incl_edition": round(delivered / (seconds + create_seconds), 1),
        "total_s_incl_edition": round(seconds + create_seconds, 2),
        "renders": renders,
        "peak_rss_mb": round(max(rss for _sent, rss, _cpu in results), 1),
        "worker_cpu_ms_per_message": round(1000 * sum(cpu for *_rest, cpu in results)
                                           / max(delivered, 1), 2),
        "smtp_sink_cpu_ms_per_message": round(1000 * sink_cpu / max(delivered, 1), 2),
        "languages": args.languages,
        "workers": args.workers,
        "database": sa.make_url(url).get_backend_name(),
        "edition_create_s": round(create_seconds, 2),
        "delivery_s": round(seconds, 2),
        "load_average": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]],
    }))


if __name__ == "__main__":
    main()
