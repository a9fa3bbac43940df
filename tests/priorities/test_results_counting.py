"""Results are counted in the database: the same published figures as counting ballot by
ballot, a closed round's counts stored once, an open round's cached, the CSV streamed."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest
from sqlalchemy import event, select

from feedback.core.suppression import suppress_count
from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import (
    Ballot,
    BallotChoice,
    BallotMethod,
    Phase,
    StoredResults,
    VoterDescription,
)
from feedback.priorities.results import compute_results

OPTIONS = ["Somali", "Bangladeshi", "Pakistani", "Polish"]


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def _ids(round_):
    return [e.priority_id for e in services.current_shortlist(round_).entries]


def _seed(round_, count=160, seed=7):
    """Ballots with every kind of description: none, empty, options, own words, both."""
    rng = random.Random(seed)
    ids = _ids(round_)
    people = []
    for number in range(count):
        method = rng.choice(list(BallotMethod))
        chosen = rng.sample(ids, rng.randint(1, 3))
        ballot = Ballot(round_id=round_.id, voter_key=f"k{number}", method=method)
        ballot.choices = [BallotChoice(priority_id=p, rank=r)
                          for r, p in enumerate(chosen, start=1)]
        db.session.add(ballot)
        db.session.flush()
        description = None
        if rng.random() < 0.6:
            description = VoterDescription(
                ballot_id=ballot.id, group=rng.choice(["", "patients", "carers", "staff"]),
                ethnicity_options=rng.sample(OPTIONS, rng.randint(0, 2)),
                ethnicity_text=rng.choice(["", "", "Mixed heritage"]),
                postcode_district=rng.choice(["", "B15", "BD7", "LS6"]))
            db.session.add(description)
        people.append((method, chosen, description))
    db.session.commit()
    return people


def _by_hand(people, ids):
    """The figures counted one ballot at a time, the way the first version did."""
    not_said = "Did not say"
    group_names = {"patients": "Patients", "carers": "Carers",
                   "community": "Community members", "staff": "Health and care staff"}
    method_names = {"online": "Online", "code": "Ballot code", "paper": "Paper"}
    keys = {"group": defaultdict(list), "identity": defaultdict(list),
            "area": defaultdict(list), "method": defaultdict(list)}
    for method, chosen, d in people:
        keys["method"][method_names[method.value]].append(chosen)
        if d is None:
            for key in ("group", "identity", "area"):
                keys[key][not_said].append(chosen)
            continue
        keys["group"][group_names.get(d.group, not_said)].append(chosen)
        labels = [*d.ethnicity_options, *(["Described in their own words"]
                                          if d.ethnicity_text else [])]
        for label in labels or [not_said]:
            keys["identity"][label].append(chosen)
        keys["area"][d.postcode_district or not_said].append(chosen)
    return {key: {label: (str(suppress_count(len(ballots))),
                          {p: str(suppress_count(sum(p in c for c in ballots))) for p in ids})
                  for label, ballots in groups.items() if ballots}
            for key, groups in keys.items()}


def _published(results):
    return {b.key: {c.label: (str(c.voters),
                              {t.priority_id: str(cell.chose)
                               for t, cell in zip(results.tallies, c.cells, strict=True)})
                    for c in b.categories if c.voters.value != 0}
            for b in results.breakdowns}


def test_counting_in_the_database_matches_counting_ballot_by_ballot(make_round):
    round_ = make_round("results", priorities=5)
    people = _seed(round_)
    results = compute_results(round_)
    assert str(results.voters) == str(suppress_count(len(people)))
    assert _published(results) == _by_hand(people, _ids(round_))
    overall = {t.priority_id: str(t.chose) for t in results.tallies}
    assert overall == {p: str(suppress_count(sum(p in c for _m, c, _d in people)))
                       for p in _ids(round_)}


def test_a_closed_rounds_counts_are_stored_once_and_forgotten_when_the_phase_changes(
        make_round, organiser):
    round_ = make_round("voting", priorities=3, hide_counts=False)
    _seed(round_, count=20)
    services.set_phase(organiser, round_, Phase.RESULTS)
    db.session.commit()
    compute_results(round_)
    db.session.commit()
    assert db.session.get(StoredResults, round_.id) is not None
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        compute_results(round_)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert not any("priority_ballot" in s for s in statements)  # read back, not recounted
    services.set_phase(organiser, round_, Phase.RESPONSES)
    db.session.commit()
    assert db.session.scalar(select(StoredResults).where(
        StoredResults.round_id == round_.id)) is None


def test_an_open_rounds_counts_are_cached_briefly(app, make_round):
    app.config["RESULTS_CACHE_SECONDS"] = 30
    round_ = make_round("voting", priorities=3, hide_counts=False)
    _seed(round_, count=10)
    first = compute_results(round_)
    for number in range(5):
        ballot = Ballot(round_id=round_.id, voter_key=f"late{number}",
                        method=BallotMethod.ONLINE)
        ballot.choices = [BallotChoice(priority_id=_ids(round_)[0], rank=1)]
        db.session.add(ballot)
    db.session.commit()
    assert str(compute_results(round_).voters) == str(first.voters) == "10"
    app.config["RESULTS_CACHE_SECONDS"] = 0
    assert str(compute_results(round_).voters) == "15"


def test_the_csv_streams(client, make_round):
    round_ = make_round("results", priorities=3)
    _seed(round_, count=30)
    response = client.get(f"/priorities/rounds/{round_.slug}/results.csv")
    assert response.is_streamed and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("breakdown,category,priority")
    assert len(lines) > 3 * 4
