"""Scheduled jobs for editions. They take ids, run in an app context and commit."""

from __future__ import annotations

import logging

from feedback.core.jobs import job
from feedback.core.models import utcnow
from feedback.digests import services

log = logging.getLogger(__name__)


@job
def create_edition(audience_id: int, period: str) -> int:
    """Create (once) and start the edition for one audience and period."""
    return services.create_and_start(audience_id, period).id


def create_due_editions() -> list[int]:
    """Create and start every edition that is due. Each commits on its own, so one
    audience's problem does not hold up the others."""
    created = []
    for audience_id, period in services.due_audiences(utcnow()):
        try:
            created.append(create_edition(audience_id, period))
        except Exception:
            log.exception("could not create the edition for audience %s, %s", audience_id,
                          period)
    return created
