"""One person, one ballot across channels (issue 13 item 18): someone signed in who votes
online and with a ballot code keeps one ballot, the latest; a code used while signed in
is bound to that account. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import Ballot, BallotChoice, BallotCode, BallotMethod, Phase


def _ids(round_):
    return [e.priority_id for e in services.current_shortlist(round_).entries]


def _ballots(round_):
    return db.session.scalars(select(Ballot).where(Ballot.round_id == round_.id)).all()


def _choices(ballot):
    return db.session.scalars(select(BallotChoice.priority_id).where(
        BallotChoice.ballot_id == ballot.id).order_by(BallotChoice.rank)).all()


@pytest.fixture
def codes(voting_round, organiser):
    _batch, made = services.create_code_batch(organiser, voting_round, 3)
    db.session.commit()
    return made


def test_a_member_who_votes_online_then_with_a_code_has_one_ballot(
        voting_round, make_user, sign_in_as, codes):
    """The report: a signed-in member voted online, then with a code, and two ballots
    were stored. Through the web pages."""
    member = make_user()
    ids = _ids(voting_round)
    client = sign_in_as(member)
    assert client.post(f"/priorities/rounds/{voting_round.slug}/vote",
                       data={"choices": [str(ids[0])]}).status_code == 302
    response = client.post(f"/priorities/rounds/{voting_round.slug}/vote/code",
                           data={"code": codes[0], "choices": [str(ids[1])]})
    assert response.status_code == 302
    db.session.expire_all()
    [ballot] = _ballots(voting_round)
    assert ballot.method == BallotMethod.CODE and _choices(ballot) == [ids[1]]
    code = db.session.scalar(select(BallotCode).where(
        BallotCode.code_hash == services.hash_code(codes[0])))
    assert code.user_id == member.id and code.used_at is not None
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your ballot has been changed." in flashed


def test_a_code_then_online_replaces_the_code_ballot(voting_round, make_user, codes):
    member = make_user()
    ids = _ids(voting_round)
    _ballot, replaced = services.cast_code_ballot(voting_round, codes[0], [ids[0]], member)
    db.session.commit()
    assert not replaced
    _ballot, replaced = services.cast_online_ballot(member, voting_round, [ids[2]])
    db.session.commit()
    assert replaced
    [ballot] = _ballots(voting_round)
    assert ballot.method == BallotMethod.ONLINE and _choices(ballot) == [ids[2]]
    # A second code while signed in replaces it again, and is bound too.
    services.cast_code_ballot(voting_round, codes[1], [ids[3]], member)
    db.session.commit()
    assert len(_ballots(voting_round)) == 1
    assert db.session.scalar(select(func.count()).select_from(BallotCode).where(
        BallotCode.user_id == member.id)) == 2


def test_a_bound_code_is_its_accounts_alone(voting_round, make_user, codes):
    owner, other = make_user(), make_user()
    ids = _ids(voting_round)
    services.cast_code_ballot(voting_round, codes[0], [ids[0]], owner)
    db.session.commit()
    for someone in (other, None):  # another account, or nobody signed in
        with pytest.raises(ValidationError, match="already been used"):
            services.cast_code_ballot(voting_round, codes[0], [ids[1]], someone)
        db.session.rollback()
    _ballot, replaced = services.cast_code_ballot(voting_round, codes[0], [ids[1]], owner)
    db.session.commit()
    assert replaced and len(_ballots(voting_round)) == 1


def test_without_an_account_a_code_votes_once_and_is_not_linked(voting_round, make_user,
                                                                 codes):
    """The stated limit: a code used without signing in is its own voter."""
    member = make_user()
    ids = _ids(voting_round)
    services.cast_code_ballot(voting_round, codes[0], [ids[0]])
    services.cast_online_ballot(member, voting_round, [ids[1]])
    db.session.commit()
    assert len(_ballots(voting_round)) == 2
    with pytest.raises(ValidationError, match="already been used"):
        services.cast_code_ballot(voting_round, codes[0], [ids[1]], member)


def test_the_guarantee_and_its_limits_are_stated(client, voting_round):
    for url in (f"/priorities/rounds/{voting_round.slug}",
                f"/priorities/rounds/{voting_round.slug}/results"):
        page = client.get(url).get_data(as_text=True)
        assert 'data-testid="one-ballot"' in page, url
        assert "without an account cannot be linked to anyone" in page, url
    voting_round.phase = Phase.RESULTS
    db.session.commit()
    page = client.get(f"/priorities/rounds/{voting_round.slug}/results").get_data(as_text=True)
    assert "How the votes were counted" in page and 'data-testid="one-ballot"' in page
