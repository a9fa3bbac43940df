"""Benchmark: publishing an update that N people follow, then sending their emails.

    .venv/bin/python bench/notifications.py --followers 10000 \
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--workers 2]

Seeds N followers of one dataset in a fresh database (a temporary SQLite file, or a new
database on the given PostgreSQL server, dropped afterwards), publishes an update about
that dataset (counting the SQL statements and time the publication takes, which queues
every follower's notification), then delivers the notifications with ``feedback
deliver``-style workers to an aiosmtpd sink on loopback. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from digest import _config, database_and_sink, deliver_with_workers

from feedback import create_app
from feedback.extensions import db


def seed(followers: int):
    """An organisation, a dataset, ``followers`` people following it and a draft update."""
    from feedback.accounts.models import PlatformRole, User
    from feedback.core.models import UTCDateTime, utcnow
    from feedback.organisations import services as organisations
    from feedback.updates import services as updates
    from feedback.updates.models import Follow

    org = organisations.create_organisation(None, {"kind": "nhs", "name": "Riverside"})
    dataset = organisations.create_dataset(None, org, {"name": "Emergency attendances"})
    db.session.commit()
    now = utcnow()
    rows = [{"email": f"follower{n}@example.org", "display_name": f"Follower {n}",
             "language": ("en", "cy", "ur")[n % 3], "role": PlatformRole.MEMBER,
             "created_at": now, "session_version": 1} for n in range(followers)]
    for start in range(0, len(rows), 5000):
        db.session.execute(sa.insert(User), rows[start:start + 5000])
    db.session.execute(sa.insert(Follow).from_select(
        ["user_id", "target_type", "target_id", "created_at"],
        sa.select(User.id, sa.literal("dataset"), sa.literal(dataset.id),
                  sa.literal(now, UTCDateTime))))
    update = updates.create_update(None, org, {
        "title": "Weekend clinics", "kind": "service_change", "datasets": [dataset.id],
        "summary": "A clinic now opens at weekends because of what the data showed.",
        "opt_out_applied": "not_applicable"})
    db.session.commit()
    return update.id


def publish(update_id: int) -> tuple[float, list[str]]:
    """Publish and commit; returns the seconds taken and the statements run."""
    from feedback.updates import services as updates

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    started = time.perf_counter()
    try:
        updates.publish_update(None, updates.get_update(update_id))
        db.session.commit()
    finally:
        seconds = time.perf_counter() - started
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seconds, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10000)
    parser.add_argument("--database", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    with database_and_sink(args.database) as (url, port, secret, context, parent_end):
        app = create_app(_config(url, port, secret, args.batch))
        with app.app_context():
            from flask_migrate import upgrade

            from feedback.notifications.models import Notification

            upgrade()
            update_id = seed(args.followers)
            publish_seconds, statements = publish(update_id)
            queued = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
            db.session.remove()
            db.engine.dispose()

        seconds, results = deliver_with_workers(context, url, port, secret, args.batch,
                                                args.workers)
        parent_end.send("report")
        counts, _sink_cpu = parent_end.recv()

    delivered = sum(counts.values())
    print(json.dumps({
        "followers": args.followers,
        "queued": queued,
        "publish_s": round(publish_seconds, 3),
        "publish_statements": len(statements),
        "queue_statements": sum("notifications" in s for s in statements),
        "translation_statements": sum("translation_segments" in s for s in statements),
        "delivered": delivered,
        "unique_recipients": len(counts),
        "duplicates": delivered - len(counts),
        "messages_per_s": round(delivered / seconds, 1),
        "worker_cpu_ms_per_message": round(1000 * sum(cpu for *_rest, cpu in results)
                                           / max(delivered, 1), 2),
        "workers": args.workers,
        "database": sa.make_url(url).get_backend_name(),
        "delivery_s": round(seconds, 2),
    }))


if __name__ == "__main__":
    main()
