"""Scheduled jobs for delivery. They run in an app context and commit."""

from __future__ import annotations

from feedback.delivery import services
from feedback.extensions import db


def deliver_outbox(max_seconds: float = 50.0) -> int:
    """Send what is due, for at most ``max_seconds`` (the next run carries on)."""
    return services.deliver_due(max_seconds=max_seconds)


def retry_failures() -> int:
    """Put rows whose worker died back in the queue; temporary failures come back on
    their own when their backoff ends."""
    try:
        released = services.release_expired_claims()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return released
