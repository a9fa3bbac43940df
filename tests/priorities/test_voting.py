"""One ballot per person per round, three ways to vote, and the clear messages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from feedback.audit.models import AuditEvent
from feedback.core.keys import derive_keys
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import (
    Ballot,
    BallotChoice,
    BallotCode,
    BallotMethod,
    PaperStatus,
)


def _ids(round_):
    return [e.priority_id for e in services.current_shortlist(round_).entries]


def _ballots(round_):
    return db.session.scalar(select(func.count()).select_from(Ballot)
                             .where(Ballot.round_id == round_.id))


def test_online_vote_then_change_replaces_the_ballot(voting_round, make_user):
    voter = make_user()
    ids = _ids(voting_round)
    ballot, replaced = services.cast_online_ballot(voter, voting_round, [ids[0], ids[1]])
    db.session.commit()
    assert not replaced and ballot.method == BallotMethod.ONLINE
    again, replaced = services.cast_online_ballot(voter, voting_round, [ids[2]])
    db.session.commit()
    assert replaced and again.id == ballot.id and again.changed_at is not None
    assert _ballots(voting_round) == 1
    assert db.session.scalars(select(BallotChoice.priority_id).where(
        BallotChoice.ballot_id == ballot.id)).all() == [ids[2]]


def test_voter_key_is_a_keyed_hash_and_differs_between_rounds(app, voting_round, make_round):
    other = make_round("voting", title="Maternity priorities")
    key = services.voter_key(voting_round.id, "user:1")
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key == services.voter_key(voting_round.id, "user:1")
    assert key != services.voter_key(other.id, "user:1")
    app.config["SECRET_KEY"] = "another-secret"  # Flask's key: sessions only
    assert key == services.voter_key(voting_round.id, "user:1")
    app.config["KEYS"] = derive_keys({"SECRET_KEY": "test-secret",
                                      "BALLOT_SECRET_KEY": "another-secret"})
    assert key != services.voter_key(voting_round.id, "user:1")


def test_database_refuses_a_second_ballot_for_the_same_key(voting_round):
    db.session.add(Ballot(round_id=voting_round.id, voter_key="k" * 64,
                          method=BallotMethod.ONLINE))
    db.session.commit()
    db.session.add(Ballot(round_id=voting_round.id, voter_key="k" * 64,
                          method=BallotMethod.CODE))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_online_voting_needs_a_confirmed_email(voting_round, make_user):
    voter = make_user()
    voter.email_confirmed_at = None
    with pytest.raises(ValidationError, match="Confirm your email"):
        services.cast_online_ballot(voter, voting_round, _ids(voting_round)[:1])


@pytest.mark.parametrize(("choices", "message"), [
    ([], "Choose at least one priority"),
    ("four", "You can choose up to 3 priorities. You chose 4."),
    ("repeat", "more than once"),
    ("other-round", "not on this round's shortlist"),
    (["x"], "Choose priorities from the list"),
])
def test_bad_ballots_are_rejected_whole(voting_round, make_round, make_user, choices,
                                        message):
    ids = _ids(voting_round)
    if choices == "four":
        choices = ids[:4]
    elif choices == "repeat":
        choices = [ids[0], ids[0]]
    elif choices == "other-round":
        choices = [ids[0], _ids(make_round("voting", title="Other round"))[0]]
    voter = make_user()
    with pytest.raises(ValidationError, match=message):
        services.cast_online_ballot(voter, voting_round, choices)
    db.session.rollback()
    assert _ballots(voting_round) == 0
    assert db.session.scalar(select(func.count()).select_from(BallotChoice)) == 0


@pytest.mark.parametrize("phase", ["suggestions", "review", "results"])
def test_votes_outside_the_voting_phase_are_rejected(make_round, make_user, phase):
    round_ = make_round(phase)
    with pytest.raises(ValidationError, match=r"Voting in this round has (closed|not opened)"):
        services.cast_online_ballot(make_user(), round_, _ids(round_)[:1])


def test_votes_after_the_closing_time_are_rejected_even_before_the_job_runs(voting_round,
                                                                             make_user):
    voting_round.voting_closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(ValidationError, match="has closed"):
        services.cast_online_ballot(make_user(), voting_round, _ids(voting_round)[:1])


def test_codes_are_stored_hashed_work_once_and_say_so_clearly(voting_round, organiser):
    _batch, codes = services.create_code_batch(organiser, voting_round, 3, "Community day")
    db.session.commit()
    assert len(codes) == 3 and all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", c)
                                   for c in codes)
    stored = db.session.scalars(select(BallotCode.code_hash)).all()
    assert all(services.normalise_code(c) not in stored for c in codes)
    ids = _ids(voting_round)
    ballot, _ = services.cast_code_ballot(voting_round, codes[0].lower().replace("-", " "),
                                          ids[:2])
    db.session.commit()
    assert ballot.method == BallotMethod.CODE
    with pytest.raises(ValidationError) as error:
        services.cast_code_ballot(voting_round, codes[0], ids[:1])
    assert error.value.message == str(services.CODE_USED_MESSAGE)
    db.session.rollback()
    with pytest.raises(ValidationError, match="do not recognise"):
        services.cast_code_ballot(voting_round, "AAAA-BBBB-CCCC", ids[:1])
    db.session.rollback()
    # A rejected ballot does not use up the code.
    with pytest.raises(ValidationError):
        services.cast_code_ballot(voting_round, codes[1], ids[:4])
    db.session.rollback()
    services.cast_code_ballot(voting_round, codes[1], ids[:1])
    db.session.commit()
    assert _ballots(voting_round) == 2
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "priority_codes.created")) is not None


def test_paper_ballot_double_entry_counts_only_when_both_agree(voting_round, organiser,
                                                               partner_staff):
    ids = _ids(voting_round)
    entry = {"reference": "p-001", "location": "Handsworth community centre",
             "filled_in_on": "2026-03-01", "choices": [ids[1], ids[0]]}
    paper = services.enter_paper_ballot(partner_staff, voting_round, entry)
    db.session.commit()
    assert paper.status == PaperStatus.AWAITING_CHECK and paper.reference == "P-001"
    assert _ballots(voting_round) == 0
    with pytest.raises(ValidationError, match="different person"):
        services.enter_paper_ballot(partner_staff, voting_round, entry)
    db.session.rollback()
    paper = services.enter_paper_ballot(organiser, voting_round, entry)
    db.session.commit()
    assert paper.status == PaperStatus.MATCHED
    ballot = db.session.get(Ballot, paper.ballot_id)
    assert ballot.method == BallotMethod.PAPER
    assert [c.priority_id for c in ballot.choices] == [ids[1], ids[0]]
    assert paper.first_entered_by_id == partner_staff.id
    assert paper.second_entered_by_id == organiser.id


def test_paper_mismatch_is_flagged_and_not_counted(voting_round, organiser, partner_staff):
    ids = _ids(voting_round)
    entry = {"reference": "P-002", "location": "Gurdwara hall", "filled_in_on": "2026-03-02"}
    services.enter_paper_ballot(partner_staff, voting_round, {**entry, "choices": [ids[0]]})
    paper = services.enter_paper_ballot(organiser, voting_round, {**entry, "choices": [ids[1]]})
    db.session.commit()
    assert paper.status == PaperStatus.MISMATCH and _ballots(voting_round) == 0
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "priority_paper.mismatch")) is not None
    services.clear_second_entry(partner_staff, paper)
    paper = services.enter_paper_ballot(organiser, voting_round, {**entry, "choices": [ids[0]]})
    db.session.commit()
    assert paper.status == PaperStatus.MATCHED and _ballots(voting_round) == 1


def test_a_paper_ballot_carrying_a_used_code_is_the_same_voter(voting_round, organiser,
                                                               partner_staff):
    _batch, codes = services.create_code_batch(organiser, voting_round, 1)
    ids = _ids(voting_round)
    services.cast_code_ballot(voting_round, codes[0], ids[:1])
    db.session.commit()
    entry = {"reference": "P-3", "location": "Library", "filled_in_on": "2026-03-03",
             "code": codes[0], "choices": [ids[2]]}
    services.enter_paper_ballot(partner_staff, voting_round, entry)
    db.session.commit()
    with pytest.raises(ValidationError) as error:
        services.enter_paper_ballot(organiser, voting_round, entry)
    assert error.value.message == str(services.CODE_USED_MESSAGE)
    db.session.rollback()
    assert _ballots(voting_round) == 1


def test_only_the_rounds_organisations_can_make_codes_or_enter_paper(voting_round, make_user):
    from feedback.accounts.permissions import PermissionDenied

    outsider = make_user()
    with pytest.raises(PermissionDenied):
        services.create_code_batch(outsider, voting_round, 5)
    with pytest.raises(PermissionDenied):
        services.enter_paper_ballot(outsider, voting_round, {})


def test_rank_ballots_keep_their_order(make_round, make_user):
    round_ = make_round("voting", voting_method="rank", max_choices=3)
    ids = _ids(round_)
    ballot, _ = services.cast_online_ballot(make_user(), round_, [ids[2], "", ids[0]])
    db.session.commit()
    assert [(c.priority_id, c.rank) for c in ballot.choices] == [(ids[2], 1), (ids[0], 2)]
