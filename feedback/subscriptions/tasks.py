"""Scheduled jobs for subscriptions. They run in an app context and commit at the end."""

from __future__ import annotations

from feedback.extensions import db
from feedback.subscriptions import services


def purge_unconfirmed() -> int:
    """Delete sign-ups nobody confirmed within 7 days."""
    try:
        purged = services.purge_unconfirmed()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return purged


def run_contact_imports() -> int:
    """Save the partners' waiting CSV imports, a chunk per transaction."""
    try:
        return services.run_pending_imports()
    except Exception:
        db.session.rollback()
        raise
