"""Suggestions from the public, and the priorities and shortlist made from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, func, select

from feedback.accounts.models import User
from feedback.audit import services as audit
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.priorities.common import _
from feedback.priorities.models import (
    DESCRIPTION_MAX,
    LOCATION_MAX,
    QUESTION_MAX,
    REASON_MAX,
    TITLE_MAX,
    WHY_MAX,
    Phase,
    Priority,
    PriorityFollower,
    PriorityRound,
    ShortlistEntry,
    ShortlistVersion,
    Suggester,
    Suggestion,
    SuggestionFollower,
    SuggestionStatus,
)
from feedback.priorities.rounds import _first_org_of, require_organiser

# Suggestions -----------------------------------------------------------------------------

def _require_phase(round_: PriorityRound, phase: Phase, message: str) -> None:
    if round_.phase != phase:
        raise ValidationError(message)


def _clean_suggestion(data: dict[str, Any]) -> tuple[str, str]:
    question = clean_text(data.get("question"), label=_("your question"),
                          max_length=QUESTION_MAX, required=True, field="question")
    why = clean_text(data.get("why_it_matters"), label=_("why it matters"),
                     max_length=WHY_MAX, field="why_it_matters", multiline=True)
    return question, why


def suggest(actor: User, round_: PriorityRound, data: dict[str, Any]) -> Suggestion:
    """A signed-in person suggests a question. It waits for moderation."""
    _require_phase(round_, Phase.SUGGESTIONS, _("This round is not taking suggestions now."))
    question, why = _clean_suggestion(data)
    suggestion = Suggestion(round_id=round_.id, question=question, why_it_matters=why)
    suggestion.suggesters.append(Suggester(user_id=actor.id))
    suggestion.followers.append(SuggestionFollower(user_id=actor.id))
    db.session.add(suggestion)
    db.session.flush()
    return suggestion


def suggest_on_behalf(actor: User, round_: PriorityRound, data: dict[str, Any]) -> Suggestion:
    """Partner staff enter a question someone gave them at a community event."""
    require_organiser(actor, round_)
    _require_phase(round_, Phase.SUGGESTIONS, _("This round is not taking suggestions now."))
    question, why = _clean_suggestion(data)
    event = clean_text(data.get("event"), label=_("where it was gathered"),
                       max_length=LOCATION_MAX, required=True, field="event")
    organisation = _first_org_of(actor, round_)
    suggestion = Suggestion(round_id=round_.id, question=question, why_it_matters=why,
                            status=SuggestionStatus.PUBLISHED)
    suggestion.suggesters.append(Suggester(on_behalf=True, entered_by_id=actor.id,
                                           entered_for_organisation_id=organisation.id,
                                           event=event))
    db.session.add(suggestion)
    db.session.flush()
    audit.record("priority_suggestion.entered_on_behalf", actor=actor, organisation=organisation,
                 target=suggestion, summary=f"Entered a suggestion gathered at {event}")
    return suggestion


def moderate(actor: Any, suggestion: Suggestion, status: SuggestionStatus | str,
             reason: str = "") -> Suggestion:
    """Accept, remove, or set aside a suggestion as out of scope or already answered
    (those two need a public reason)."""
    round_ = suggestion.round
    require_organiser(actor, round_)
    try:
        status = SuggestionStatus(status)
    except ValueError:
        raise ValidationError(_("Choose what to do with the suggestion."), "status") from None
    if status in (SuggestionStatus.MERGED, SuggestionStatus.PENDING):
        raise ValidationError(_("Choose what to do with the suggestion."), "status")
    reason = clean_text(reason, label=_("the public reason"), max_length=REASON_MAX,
                        field="reason", multiline=True,
                        required=status in (SuggestionStatus.OUT_OF_SCOPE,
                                            SuggestionStatus.ANSWERED))
    suggestion.status = status
    suggestion.public_reason = reason
    db.session.flush()
    audit.record("priority_suggestion.moderated", actor=actor,
                 organisation=_first_org_of(actor, round_), target=suggestion,
                 summary=f"Suggestion {suggestion.id}: {status.value}", status=status.value)
    return suggestion


def merge_suggestions(actor: Any, duplicate: Suggestion, keep: Suggestion) -> Suggestion:
    """Merge ``duplicate`` into ``keep``: its suggesters and followers move across."""
    round_ = keep.round
    require_organiser(actor, round_)
    if duplicate.id == keep.id or duplicate.round_id != keep.round_id:
        raise ValidationError(_("Choose a different question in the same round to merge "
                                "with."), "into")
    if keep.status == SuggestionStatus.MERGED:
        raise ValidationError(_("That question has itself been merged; merge into the one "
                                "it was merged with."), "into")
    for suggester in list(duplicate.suggesters):
        suggester.suggestion_id = keep.id
    following = {f.user_id for f in keep.followers}
    for follower in list(duplicate.followers):
        if follower.user_id in following:
            db.session.delete(follower)
        else:
            follower.suggestion_id = keep.id
            following.add(follower.user_id)
    # Anything merged into the duplicate earlier now points at the kept question too.
    for earlier in db.session.scalars(select(Suggestion).where(
            Suggestion.merged_into_id == duplicate.id)):
        earlier.merged_into_id = keep.id
    duplicate.status = SuggestionStatus.MERGED
    duplicate.merged_into_id = keep.id
    if keep.status == SuggestionStatus.PENDING:
        keep.status = SuggestionStatus.PUBLISHED
    db.session.flush()
    db.session.expire(keep)
    db.session.expire(duplicate)
    audit.record("priority_suggestion.merged", actor=actor,
                 organisation=_first_org_of(actor, round_), target=keep,
                 summary=f"Merged suggestion {duplicate.id} into {keep.id}")
    return keep


def follow_suggestion(user: User, suggestion: Suggestion) -> None:
    if not db.session.scalar(select(exists().where(SuggestionFollower.suggestion_id ==
                                                   suggestion.id,
                                                   SuggestionFollower.user_id == user.id))):
        db.session.add(SuggestionFollower(suggestion_id=suggestion.id, user_id=user.id))
        db.session.flush()


# Priorities and the shortlist -----------------------------------------------------------

def _clean_priority(data: dict[str, Any]) -> tuple[str, str]:
    title = clean_text(data.get("title"), label=_("the priority"), max_length=TITLE_MAX,
                       required=True, field="title")
    description = clean_text(data.get("description"), label=_("the plain-English description"),
                             max_length=DESCRIPTION_MAX, field="description", multiline=True)
    return title, description


def create_priority(actor: Any, round_: PriorityRound, data: dict[str, Any],
                    suggestion_ids: Sequence[int] = ()) -> Priority:
    """Word a priority for the shortlist from one or more suggestions. Their suggesters
    and followers follow the priority."""
    require_organiser(actor, round_)
    title, description = _clean_priority(data)
    priority = Priority(round_id=round_.id, title=title, description=description)
    db.session.add(priority)
    db.session.flush()
    followers: set[int] = set()
    for suggestion_id in suggestion_ids:
        suggestion = db.session.get(Suggestion, int(suggestion_id))
        if suggestion is None or suggestion.round_id != round_.id:
            raise ValidationError(_("Choose suggestions from this round."), "suggestions")
        suggestion.priority_id = priority.id
        followers.update(f.user_id for f in suggestion.followers)
        followers.update(s.user_id for s in suggestion.suggesters if s.user_id)
    for user_id in followers:
        db.session.add(PriorityFollower(priority_id=priority.id, user_id=user_id))
    db.session.flush()
    audit.record("priority.created", actor=actor, organisation=_first_org_of(actor, round_),
                 target=priority, summary=f"Added the priority {title}")
    return priority


def update_priority(actor: Any, priority: Priority, data: dict[str, Any]) -> Priority:
    require_organiser(actor, priority.round)
    priority.title, priority.description = _clean_priority(data)
    db.session.flush()
    audit.record("priority.updated", actor=actor,
                 organisation=_first_org_of(actor, priority.round), target=priority,
                 summary=f"Reworded the priority {priority.title}")
    return priority


def publish_shortlist(actor: Any, round_: PriorityRound, priority_ids: Sequence[int],
                      note: str = "") -> ShortlistVersion:
    """Publish a new version of the shortlist. Earlier versions stay as they were."""
    require_organiser(actor, round_)
    if round_.phase_at_least(Phase.RESULTS):
        raise ValidationError(_("The shortlist cannot change after voting has closed."))
    ids = list(dict.fromkeys(int(i) for i in priority_ids))
    if not ids:
        raise ValidationError(_("Choose at least one priority for the shortlist."), "priorities")
    priorities = {p.id: p for p in db.session.scalars(
        select(Priority).where(Priority.id.in_(ids), Priority.round_id == round_.id))}
    if len(priorities) != len(ids):
        raise ValidationError(_("Choose priorities from this round."), "priorities")
    note = clean_text(note, label=_("the note"), max_length=REASON_MAX, field="note",
                      multiline=True)
    number = (db.session.scalar(select(func.max(ShortlistVersion.number))
                                .where(ShortlistVersion.round_id == round_.id)) or 0) + 1
    version = ShortlistVersion(round_id=round_.id, number=number, note=note,
                               published_by_id=getattr(actor, "id", None))
    for position, priority_id in enumerate(ids, start=1):
        priority = priorities[priority_id]
        version.entries.append(ShortlistEntry(priority_id=priority.id, position=position,
                                              title=priority.title,
                                              description=priority.description))
    db.session.add(version)
    db.session.flush()
    audit.record("priority_shortlist.published", actor=actor,
                 organisation=_first_org_of(actor, round_), target=version,
                 summary=f"{round_.title}: shortlist version {number} "
                 f"({len(ids)} priorities)")
    return version


def shortlisted_in(priority: Priority) -> list[int]:
    """The shortlist version numbers that included this priority."""
    return list(db.session.scalars(
        select(ShortlistVersion.number).join(ShortlistEntry)
        .where(ShortlistEntry.priority_id == priority.id).order_by(ShortlistVersion.number)))


def follow_priority(user: User, priority: Priority) -> None:
    if not is_following(user, priority):
        db.session.add(PriorityFollower(priority_id=priority.id, user_id=user.id))
        db.session.flush()


def unfollow_priority(user: User, priority: Priority) -> None:
    db.session.execute(delete(PriorityFollower).where(PriorityFollower.priority_id ==
                                                      priority.id,
                                                      PriorityFollower.user_id == user.id))


def is_following(user: Any, priority: Priority) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(db.session.scalar(select(exists().where(
        PriorityFollower.priority_id == priority.id, PriorityFollower.user_id == user.id))))
