"""Scheduled jobs for delivery. They run in an app context and commit."""

from __future__ import annotations

from feedback.core.jobs import job
from feedback.delivery import services


def deliver_outbox(max_seconds: float = 50.0) -> int:
    """Send what is due, for at most ``max_seconds`` (the next run carries on)."""
    return services.deliver_due(max_seconds=max_seconds)


@job
def retry_failures() -> int:
    """Put rows whose worker died back in the queue; temporary failures come back on
    their own when their backoff ends."""
    return services.release_expired_claims()
