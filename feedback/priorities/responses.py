"""Links from updates to priorities, and the public responses to priorities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, select

from feedback.audit import services as audit
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.notifications import services as notifications
from feedback.notifications.models import NotificationKind
from feedback.priorities.common import _
from feedback.priorities.models import (
    RESPONSE_MAX,
    Phase,
    Priority,
    PriorityFollower,
    PriorityRound,
    ResponseStatus,
    ShortlistEntry,
)
from feedback.priorities.rounds import _first_org_of, require_organiser
from feedback.priorities.suggestions import shortlisted_in

# Links from updates -----------------------------------------------------------------------

def linkable_priority(priority_id: int) -> Priority | None:
    """A shortlisted priority in a round that is not a draft: one an update can answer."""
    return db.session.scalar(
        select(Priority).join(PriorityRound, PriorityRound.id == Priority.round_id)
        .where(Priority.id == priority_id, PriorityRound.phase != Phase.DRAFT,
               exists().where(ShortlistEntry.priority_id == Priority.id)))


def priority_choices(none_label: str) -> list[Any]:
    """Choices for the update editor's "research priority this answers" list."""
    rows = db.session.execute(
        select(Priority.id, Priority.title, PriorityRound.title)
        .join(PriorityRound, PriorityRound.id == Priority.round_id)
        .where(PriorityRound.phase != Phase.DRAFT,
               exists().where(ShortlistEntry.priority_id == Priority.id))
        .order_by(PriorityRound.title, Priority.title)).all()
    from feedback.priorities.forms import choice_list

    return choice_list([("", none_label)] + [(pid, f"{title} ({round_title})")
                                             for pid, title, round_title in rows])


def updates_that_followed(priority: Priority) -> list[Any]:
    """Published updates that say they answer this priority, oldest first."""
    from feedback.updates.models import Update, UpdateStatus

    return list(db.session.scalars(
        select(Update).where(Update.answers_priority_id == priority.id,
                             Update.status == UpdateStatus.PUBLISHED)
        .order_by(Update.published_at)))


# Responses -------------------------------------------------------------------------------

def publish_response(actor: Any, priority: Priority, status: ResponseStatus | str,
                     text: str) -> Priority:
    """Say what will happen to a shortlisted priority, and queue an email to each of its
    followers (again, if the response changes)."""
    round_ = priority.round
    require_organiser(actor, round_)
    if not round_.phase_at_least(Phase.RESULTS):
        raise ValidationError(_("Responses are published after voting closes."))
    if not shortlisted_in(priority):
        raise ValidationError(_("Only shortlisted priorities get a response."))
    try:
        status = ResponseStatus(status)
    except ValueError:
        raise ValidationError(_("Choose a response."), "status") from None
    text = clean_text(text, label=_("the response"), max_length=RESPONSE_MAX, field="text",
                      multiline=True, required=True)
    if status == ResponseStatus.NOT_TAKEN_FORWARD and len(text) < 20:
        raise ValidationError(_("Explain in a sentence or two why this priority is not being "
                                "taken forward."), "text")
    priority.response_status = status
    priority.response_text = text
    priority.response_published_at = utcnow()
    db.session.flush()
    audit.record("priority.response_published", actor=actor,
                 organisation=_first_org_of(actor, round_), target=priority,
                 summary=f"Response to {priority.title}: {status.value}")
    notifications.enqueue(NotificationKind.PRIORITY_RESPONSE, priority.id,
                          follower_ids(priority.id), again=True)
    return priority


def follower_ids(priority_id: int) -> Select:
    """The ids of everyone following a priority."""
    return select(PriorityFollower.user_id).where(PriorityFollower.priority_id == priority_id)
