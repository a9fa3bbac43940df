"""Casting a ballot runs a small, fixed number of SQL statements, and the shortlist is
loaded once per request: ballots must keep up with a national round."""

from __future__ import annotations

from sqlalchemy import func, select

from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import Ballot
from tests.updates.test_query_counts import count_queries as statements

MOST_STATEMENTS_TO_VOTE = 6


def _ids(round_):
    return [e.priority_id for e in services.current_shortlist(round_).entries]


def _shortlist_loads(seen):
    return sum("FROM priority_shortlist_versions" in s for s in seen)


def test_a_code_ballot_takes_few_statements(client, voting_round, organiser):
    _batch, codes = services.create_code_batch(organiser, voting_round, 2)
    db.session.commit()
    ids = _ids(voting_round)
    url = f"/priorities/rounds/{voting_round.slug}/vote/code"
    db.session.expire_all()
    with statements() as seen:
        assert client.get(url).status_code == 200
    assert _shortlist_loads(seen) == 1
    db.session.expire_all()
    with statements() as seen:
        response = client.post(url, data={"code": codes[0], "choices": [str(i) for i in
                                                                        ids[:2]]})
    assert response.status_code == 302
    assert len(seen) <= MOST_STATEMENTS_TO_VOTE, "\n".join(s[:90] for s in seen)
    assert _shortlist_loads(seen) == 1
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_an_online_ballot_takes_few_statements(client, voting_round, make_user, sign_in_as):
    voter = make_user()
    sign_in_as(voter)
    ids = _ids(voting_round)
    url = f"/priorities/rounds/{voting_round.slug}/vote"
    db.session.expire_all()
    with statements() as seen:
        assert client.post(url, data={"choices": [str(ids[0])]}).status_code == 302
    assert len(seen) <= MOST_STATEMENTS_TO_VOTE, "\n".join(s[:90] for s in seen)
    assert _shortlist_loads(seen) == 1
    db.session.expire_all()
    with statements() as seen:  # changing it replaces the choices
        assert client.post(url, data={"choices": [str(ids[1])]}).status_code == 302
    assert _shortlist_loads(seen) == 1
    ballot = db.session.scalar(select(Ballot))
    assert [c.priority_id for c in ballot.choices] == [ids[1]]


def test_the_code_page_takes_one_statement_and_a_code_ballot_two_on_postgresql(
        client, voting_round, organiser):
    """The round, its shortlist and the entries come in one query; on PostgreSQL the
    code's claim, the ballot and its choices are one statement more (three elsewhere)."""
    _batch, codes = services.create_code_batch(organiser, voting_round, 1)
    db.session.commit()
    ids = _ids(voting_round)
    chosen = [ids[2], ids[0], ids[1]]
    url = f"/priorities/rounds/{voting_round.slug}/vote/code"
    db.session.expire_all()
    with statements() as seen:
        assert client.get(url).status_code == 200
    assert len(seen) == 1, "\n".join(s[:90] for s in seen)
    db.session.expire_all()
    with statements() as seen:
        response = client.post(url, data={"code": codes[0],
                                          "choices": [str(i) for i in chosen]})
    assert response.status_code == 302
    most = 2 if db.engine.dialect.name == "postgresql" else 4
    assert len(seen) <= most, "\n".join(s[:90] for s in seen)
    ballot = db.session.scalar(select(Ballot))
    assert [c.priority_id for c in ballot.choices] == chosen  # in the order chosen
