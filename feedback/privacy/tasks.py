"""The retention job the scheduler runs."""

from __future__ import annotations

import logging

from feedback.extensions import db
from feedback.privacy import services

log = logging.getLogger(__name__)


def purge_personal_data() -> services.Purged:
    """Delete or erase personal data past its retention period, and commit."""
    try:
        purged = services.purge_expired_personal_data()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if purged.sign_in_links or purged.invitations or purged.unsubscribed:
        log.info("retention: deleted %d sign-in links, erased %d invitation addresses and "
                 "%d unsubscribed people's details", purged.sign_in_links, purged.invitations,
                 purged.unsubscribed)
    return purged
