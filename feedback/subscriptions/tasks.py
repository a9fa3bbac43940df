"""Scheduled jobs for subscriptions. They run in an app context and commit at the end."""

from __future__ import annotations

from feedback.core.jobs import job
from feedback.subscriptions import services


@job
def purge_unconfirmed() -> int:
    """Delete sign-ups nobody confirmed within 7 days."""
    return services.purge_unconfirmed()


@job
def run_contact_imports() -> int:
    """Save the partners' waiting CSV imports, a chunk per transaction."""
    return services.run_pending_imports()
