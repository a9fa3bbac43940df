"""Rounds, phases (by hand and by the scheduled job), suggestions, moderation, merging and
the versioned shortlist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback.accounts.permissions import PermissionDenied
from feedback.audit.models import AuditEvent
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import Phase, Priority, PriorityFollower, SuggestionStatus
from feedback.priorities.tasks import advance_round_phases


def _audits(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_create_round_defaults_and_validation(organiser, trust, partner):
    round_ = services.create_round(organiser, [trust, partner], {
        "title": "Maternity research priorities", "scope": "What should maternity research "
        "look at?", "groups": ["patients", "staff"]})
    db.session.commit()
    assert round_.phase == Phase.DRAFT and round_.max_choices == 3
    assert {o.name for o in round_.organisations} == {trust.name}  # the partner is invited
    assert [i.organisation_id for i in services.round_invitations(round_)] == [partner.id]
    assert round_.slug == "maternity-research-priorities"
    with pytest.raises(ValidationError, match="200 characters or fewer"):
        services.create_round(organiser, [trust], {"title": "x" * 201, "scope": "s",
                                                   "groups": ["patients"]})
    with pytest.raises(ValidationError, match="at least one group"):
        services.create_round(organiser, [trust], {"title": "t", "scope": "s"})
    with pytest.raises(ValidationError, match="in order"):
        services.create_round(organiser, [trust], {
            "title": "t", "scope": "s", "groups": ["carers"], "voting_opens_at": "2026-05-01",
            "voting_closes_at": "2026-04-01"})


def test_outsiders_cannot_start_a_round_for_an_organisation(make_user, trust):
    with pytest.raises(PermissionDenied):
        services.create_round(make_user(), [trust], {"title": "t", "scope": "s",
                                                     "groups": ["patients"]})


def test_phase_changes_by_hand_are_audited_and_voting_needs_a_shortlist(make_round,
                                                                        organiser):
    round_ = make_round("review", priorities=0)
    with pytest.raises(ValidationError, match="Publish a shortlist"):
        services.set_phase(organiser, round_, "voting")
    services.set_phase(organiser, round_, "suggestions")
    db.session.commit()
    [event] = _audits("priority_round.phase_changed")
    assert event.actor_id == organiser.id and event.details["phase"] == "suggestions"


def test_the_job_moves_rounds_on_at_their_dates_and_audits_it(make_round):
    now = utcnow()
    due = make_round("review", voting_opens_at=now - timedelta(hours=1),
                     voting_closes_at=now + timedelta(days=7))
    later = make_round("suggestions", title="Later round", review_at=now + timedelta(days=1))
    closed = make_round("voting", title="Closed round", voting_opens_at=now - timedelta(days=8),
                        voting_closes_at=now - timedelta(minutes=5))
    changes = advance_round_phases()
    assert sorted(changes) == sorted([(due.id, "review", "voting"),
                                      (closed.id, "voting", "results")])
    db.session.expire_all()
    assert later.phase == Phase.SUGGESTIONS
    events = _audits("priority_round.phase_changed")
    assert {e.target_id for e in events} == {due.id, closed.id}
    assert all(e.actor_id is None and e.details["reason"] == "scheduled" for e in events)
    assert advance_round_phases() == []  # nothing more to do


def test_the_job_can_be_limited_to_some_rounds(make_round):
    past = utcnow() - timedelta(hours=1)
    first = make_round("suggestions", review_at=past)
    second = make_round("suggestions", title="Second", review_at=past)
    assert advance_round_phases([second.id]) == [(second.id, "suggestions", "review")]
    db.session.expire_all()
    assert first.phase == Phase.SUGGESTIONS


def test_suggestions_need_the_suggestions_phase(make_round, make_user):
    round_ = make_round("review")
    with pytest.raises(ValidationError, match="not taking suggestions"):
        services.suggest(make_user(), round_, {"question": "Why?"})


def test_on_behalf_suggestions_are_recorded_as_such(make_round, partner_staff, partner):
    round_ = make_round("suggestions")
    suggestion = services.suggest_on_behalf(partner_staff, round_, {
        "question": "Why does pain relief take so long in A&E?",
        "event": "Coffee morning, Handsworth"})
    db.session.commit()
    [suggester] = suggestion.suggesters
    assert suggester.on_behalf and suggester.user_id is None
    assert suggester.entered_by_id == partner_staff.id
    assert suggester.entered_for_organisation_id == partner.id
    assert _audits("priority_suggestion.entered_on_behalf")


def test_merge_keeps_suggesters_and_followers(make_round, make_user, organiser):
    round_ = make_round("suggestions")
    amina, kwame, follower = make_user(), make_user(), make_user()
    keep = services.suggest(amina, round_, {"question": "Why is pain relief slow in A&E?"})
    duplicate = services.suggest(kwame, round_, {"question": "Pain relief is too slow in A&E"})
    services.follow_suggestion(follower, duplicate)
    services.follow_suggestion(amina, duplicate)
    db.session.commit()
    services.merge_suggestions(organiser, duplicate, keep)
    db.session.commit()
    assert duplicate.status == SuggestionStatus.MERGED and duplicate.merged_into_id == keep.id
    assert {s.user_id for s in keep.suggesters} == {amina.id, kwame.id}
    assert {f.user_id for f in keep.followers} == {amina.id, kwame.id, follower.id}
    assert keep.status == SuggestionStatus.PUBLISHED
    # A priority worded from it is followed by all of them.
    priority = services.create_priority(organiser, round_, {"title": "Faster pain relief"},
                                        [keep.id])
    db.session.commit()
    assert set(db.session.scalars(select(PriorityFollower.user_id).where(
        PriorityFollower.priority_id == priority.id))) == {amina.id, kwame.id, follower.id}


@pytest.mark.parametrize("status", ["out_of_scope", "answered"])
def test_setting_aside_needs_a_public_reason(make_round, make_user, organiser, status):
    round_ = make_round("suggestions")
    suggestion = services.suggest(make_user(), round_, {"question": "Cure for the common cold?"})
    with pytest.raises(ValidationError, match="public reason"):
        services.moderate(organiser, suggestion, status, "")
    services.moderate(organiser, suggestion, status, "This round is about sickle cell.")
    db.session.commit()
    assert suggestion in services.public_suggestions(round_)
    assert suggestion.public_reason == "This round is about sickle cell."


def test_pending_and_removed_suggestions_are_not_public(make_round, make_user, organiser):
    round_ = make_round("suggestions")
    pending = services.suggest(make_user(), round_, {"question": "Pending question"})
    removed = services.suggest(make_user(), round_, {"question": "Removed question"})
    services.moderate(organiser, removed, "removed")
    db.session.commit()
    public = services.public_suggestions(round_)
    assert pending not in public and removed not in public


def test_shortlist_versions_keep_earlier_wording(make_round, organiser):
    round_ = make_round("review", priorities=2)
    first = services.current_shortlist(round_)
    priority = db.session.get(Priority, first.entries[0].priority_id)
    services.update_priority(organiser, priority, {"title": "Reworded priority"})
    second = services.publish_shortlist(organiser, round_, [priority.id], "Merged two")
    db.session.commit()
    assert second.number == 2 and [e.title for e in second.entries] == ["Reworded priority"]
    assert services.get_shortlist_version(round_, 1).entries[0].title == "Priority question 1"
    assert services.shortlisted_in(priority) == [1, 2]
    assert len(_audits("priority_shortlist.published")) == 2


def test_cli_advances_rounds(runner, make_round):
    due = make_round("suggestions", review_at=utcnow() - timedelta(minutes=1))
    result = runner.invoke(args=["priorities", "advance", "--round-id", str(due.id)])
    assert result.exit_code == 0, result.output
    assert f"Round {due.id}: suggestions -> review" in result.output
    assert "1 round(s) moved on." in result.output
