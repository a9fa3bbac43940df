"""Scheduled job: move rounds on to the phase their dates say they should be in.

The scheduler (wired by the digests package) calls ``advance_round_phases()`` inside an
app context; it commits once at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from feedback.core.jobs import job
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.priorities.models import Phase, PriorityRound
from feedback.priorities.results import raw_counts
from feedback.priorities.services import due_phase, set_phase

log = logging.getLogger(__name__)


def advance_round_phases(round_ids: Iterable[int] | None = None,
                         now: datetime | None = None) -> list[tuple[int, str, str]]:
    """Advance every round (or just ``round_ids``) whose next phase date has passed.
    Drafts are left alone until an organiser opens them. Returns (id, from, to) for each
    change; every change is audited."""
    changes = _advance(round_ids, now or utcnow())
    for round_id, previous, phase in changes:
        log.info("priority round %s moved from %s to %s", round_id, previous, phase)
        if Phase(phase) in (Phase.RESULTS, Phase.RESPONSES):
            # Count a round once as voting closes, so no reader waits for it.
            job(raw_counts)(db.session.get(PriorityRound, round_id))
    return changes


@job
def _advance(round_ids: Iterable[int] | None, now: datetime) -> list[tuple[int, str, str]]:
    statement = select(PriorityRound).where(PriorityRound.phase != Phase.DRAFT)
    if round_ids is not None:
        statement = statement.where(PriorityRound.id.in_(list(round_ids)))
    changes = []
    for round_ in db.session.scalars(statement.with_for_update(skip_locked=True)).all():
        due = due_phase(round_, now)
        if due == round_.phase:
            continue
        previous = round_.phase
        try:
            set_phase(None, round_, due, reason="scheduled")
        except ValidationError as error:  # for example, voting due with no shortlist
            log.warning("priority round %s not moved to %s: %s", round_.id, due.value,
                        error.message)
            continue
        changes.append((round_.id, previous.value, due.value))
    return changes
