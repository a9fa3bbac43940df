"""``feedback deliver``: a delivery worker for digests and follower notifications (run as
many as you like, on any machine)."""

from __future__ import annotations

import signal
import threading

import click
from flask.cli import with_appcontext


@click.command("deliver")
@click.option("--once", is_flag=True, help="Stop when nothing is left to send.")
@click.option("--idle-sleep", default=2.0, show_default=True,
              help="Seconds to wait when nothing is due.")
@with_appcontext
def deliver(once: bool, idle_sleep: float) -> None:
    """Send queued digests, newsletters and follower notifications from the outbox."""
    from feedback.delivery.services import Worker

    stop = threading.Event()  # SIGTERM (systemd, honcho): finish the batch in hand, then stop
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sent = Worker().run(until_idle=once, idle_sleep=idle_sleep, stop=stop)
    click.echo(f"Sent {sent} messages.")
