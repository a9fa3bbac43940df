"""300 people vote at once through the web layer while 100 more attempts reuse voters or
codes already used: exactly 300 ballots, none lost, no duplicates, and every rejected
attempt gets the clear message. Needs PostgreSQL's row locks and real concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import Ballot, BallotCode, BallotMethod
from tests.conftest import POSTGRES_SERVER_URL, login

pytestmark = [
    pytest.mark.long,
    pytest.mark.postgres_only,
    pytest.mark.skipif(not POSTGRES_SERVER_URL, reason="needs PostgreSQL for real concurrent "
                       "transactions (set FEEDBACK_TEST_DATABASE_URL); SQLite has one writer"),
]

ONLINE_VOTERS = 150
CODE_VOTERS = 150
CODE_REUSES = 70
ONLINE_REPEATS = 30


class SignedIn:
    """Just what ``login`` needs, so threads never touch another session's objects."""

    def __init__(self, session_id: str):
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 10,
                                         "pool_timeout": 120, "pool_pre_ping": True}}


def test_300_voters_at_once_and_100_reuse_attempts(app, voting_round, organiser, make_user):
    round_id, slug = voting_round.id, voting_round.slug
    ids = [e.priority_id for e in services.current_shortlist(voting_round).entries]
    voters = [make_user() for _ in range(ONLINE_VOTERS)]
    _batch, codes = services.create_code_batch(organiser, voting_round, CODE_VOTERS)
    db.session.commit()
    voter_ids = [u.id for u in voters]
    voters = [SignedIn(u.get_id()) for u in voters]
    db.session.remove()

    attempts = ([("online", user, None) for user in voters]
                + [("code", None, code) for code in codes]
                + [("code", None, code) for code in codes[:CODE_REUSES]]
                + [("online", user, None) for user in voters[:ONLINE_REPEATS]])
    assert len(attempts) == 400
    start = threading.Barrier(20)

    def attempt(number: int, kind: str, user, code):
        client = app.test_client()
        choice = {"choices": [str(ids[number % len(ids)]), str(ids[(number + 1) % len(ids)])]}
        if number < 20:
            start.wait(timeout=60)  # the first wave leaves together
        if kind == "online":
            login(client, user)
            response = client.post(f"/priorities/rounds/{slug}/vote", data=choice)
        else:
            response = client.post(f"/priorities/rounds/{slug}/vote/code",
                                   data={"code": code, **choice})
        return kind, code, response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(attempt, n, *a) for n, a in enumerate(attempts)]
        outcomes = [f.result(timeout=300) for f in futures]

    accepted = [o for o in outcomes if o[2] == 302]
    rejected = [o for o in outcomes if o[2] != 302]
    assert len(rejected) == CODE_REUSES
    assert all(kind == "code" and status == 400 and
               "This ballot code has already been used to vote" in body
               for kind, _code, status, body in rejected)
    assert len(accepted) == 400 - CODE_REUSES
    # Each reused code was accepted exactly once and refused exactly once.
    assert sorted(code for _k, code, _s, _b in rejected) == sorted(codes[:CODE_REUSES])

    ballots = db.session.scalar(select(func.count()).select_from(Ballot)
                                .where(Ballot.round_id == round_id))
    assert ballots == ONLINE_VOTERS + CODE_VOTERS
    keys = set(db.session.scalars(select(Ballot.voter_key).where(Ballot.round_id == round_id)))
    expected = ({services.voter_key(round_id, f"user:{i}") for i in voter_ids}
                | {services.voter_key(round_id, f"code:{services.hash_code(c)}")
                   for c in codes})
    assert keys == expected  # nothing lost, nothing extra
    assert db.session.scalar(select(func.count()).select_from(BallotCode)
                             .where(BallotCode.used_at.is_(None))) == 0
    methods = dict(db.session.execute(select(Ballot.method, func.count()).where(
        Ballot.round_id == round_id).group_by(Ballot.method)).all())
    assert methods == {BallotMethod.ONLINE: ONLINE_VOTERS, BallotMethod.CODE: CODE_VOTERS}


def test_members_voting_online_and_with_a_code_at_once_keep_one_ballot_each(
        app, voting_round, organiser, make_user):
    """Issue 13 item 18: 40 signed-in members each send an online ballot and a code
    ballot at the same moment. Each ends with one ballot; each code is bound to them."""
    members = 40
    round_id, slug = voting_round.id, voting_round.slug
    ids = [e.priority_id for e in services.current_shortlist(voting_round).entries]
    people = [make_user() for _ in range(members)]
    _batch, codes = services.create_code_batch(organiser, voting_round, members)
    db.session.commit()
    people_ids = [p.id for p in people]
    signed_in = [SignedIn(p.get_id()) for p in people]
    db.session.remove()
    start = threading.Barrier(20)

    def attempt(number: int, kind: str, person: int):
        client = app.test_client()
        login(client, signed_in[person])
        if number < 20:
            start.wait(timeout=60)
        choice = {"choices": [str(ids[number % len(ids)])]}
        if kind == "online":
            response = client.post(f"/priorities/rounds/{slug}/vote", data=choice)
        else:
            response = client.post(f"/priorities/rounds/{slug}/vote/code",
                                   data={"code": codes[person], **choice})
        return response.status_code

    attempts = [a for n in range(members) for a in (("online", n), ("code", n))]
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = [f.result(timeout=300) for f in
                    [pool.submit(attempt, n, *a) for n, a in enumerate(attempts)]]
    assert statuses == [302] * len(attempts)
    keys = db.session.scalars(select(Ballot.voter_key).where(Ballot.round_id == round_id)).all()
    assert sorted(keys) == sorted(services.voter_key(round_id, f"user:{i}")
                                  for i in people_ids)  # one each: none lost, none extra
    assert sorted(db.session.scalars(select(BallotCode.user_id).where(
        BallotCode.round_id == round_id))) == sorted(people_ids)


def test_colleagues_offering_help_at_once_make_one_offer(app, voting_round, make_org,
                                                         make_user):
    """Issue 15 item 3: eight staff of one partner offer to help at the same moment. Each
    gets the thank-you page; the partner has one offer, audited once per side."""
    from feedback.audit.models import AuditEvent
    from feedback.priorities.models import RoundInvitation

    apna = make_org(kind="vcse", name="Apna Community Centre")
    staff = [make_user(org=apna, org_role="editor") for _ in range(8)]
    db.session.commit()
    slug, apna_id = voting_round.slug, apna.id
    staff = [SignedIn(u.get_id()) for u in staff]
    db.session.remove()
    start = threading.Barrier(len(staff))

    def offer(user):
        client = app.test_client()
        login(client, user)
        start.wait(timeout=60)
        return client.post(f"/priorities/rounds/{slug}/help", data={"note": "Tuesdays"})

    with ThreadPoolExecutor(max_workers=len(staff)) as pool:
        statuses = [r.status_code for r in pool.map(offer, staff, timeout=120)]
    assert statuses == [303] * len(staff)
    assert db.session.scalar(select(func.count()).select_from(RoundInvitation).where(
        RoundInvitation.organisation_id == apna_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "priority_round.helper_requested",
        AuditEvent.organisation_id == apna_id)) == 1
