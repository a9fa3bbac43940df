"""API fixtures: the trust, its catalogue and a live token come from the updates
fixtures."""

from __future__ import annotations

import pytest

from feedback.extensions import db
from tests.updates.conftest import (  # noqa: F401 - shared fixtures
    auth,
    dataset,
    editor,
    make_update,
    service,
    sign_in_as,
    token,
    trust,
)


@pytest.fixture
def published_round(app, trust, editor):  # noqa: F811 - the shared fixtures
    """A research priority round of ``trust`` in its results phase, with three priorities
    on the shortlist and 12 ballots: enough for some counts to be published and some
    suppressed."""
    from feedback.priorities import services as priorities
    from feedback.priorities.models import Ballot, BallotChoice, BallotMethod, Phase

    round_ = priorities.create_round(editor, [trust], {
        "title": "Sickle cell research priorities",
        "scope": "What should research using patient data about sickle cell look at?",
        "topics": "sickle cell", "area": "Birmingham", "groups": ["patients"]})
    created = [priorities.create_priority(editor, round_, {
        "title": f"Priority question {n}", "description": f"Plain description {n}"})
        for n in (1, 2, 3)]
    priorities.publish_shortlist(editor, round_, [p.id for p in created])
    round_.phase = Phase.VOTING
    db.session.flush()
    # 12 voters: 10 chose the first priority (published: 10), 2 the second (suppressed).
    for number in range(12):
        ballot = Ballot(round_id=round_.id, voter_key=f"online--{number}",
                        method=BallotMethod.ONLINE)
        ballot.choices = [BallotChoice(priority_id=created[0 if number < 10 else 1].id,
                                       rank=1)]
        db.session.add(ballot)
    round_.phase = Phase.RESULTS
    db.session.commit()
    return round_
