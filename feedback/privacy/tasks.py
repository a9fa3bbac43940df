"""The retention job the scheduler runs."""

from __future__ import annotations

import logging

from feedback.core.jobs import job
from feedback.privacy import services

log = logging.getLogger(__name__)


def purge_personal_data() -> services.Purged:
    """Delete or erase personal data past its retention period, and commit."""
    purged = job(services.purge_expired_personal_data)()
    if purged.sign_in_links or purged.invitations or purged.unsubscribed:
        log.info("retention: deleted %d sign-in links, erased %d invitation addresses and "
                 "%d unsubscribed people's details", purged.sign_in_links, purged.invitations,
                 purged.unsubscribed)
    return purged
