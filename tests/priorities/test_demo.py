from __future__ import annotations

from sqlalchemy import func, select

from feedback.demo import seed
from feedback.extensions import db
from feedback.priorities.models import Ballot, Phase, Priority, PriorityRound


def test_demo_rounds_are_seeded_once(app, outbox):
    assert seed() > 0
    db.session.commit()
    rounds = {r.slug: r for r in db.session.scalars(select(PriorityRound))}
    assert rounds["sickle-cell-research-priorities"].phase == Phase.VOTING
    maternity = rounds["maternity-research-priorities"]
    assert maternity.phase == Phase.RESPONSES
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 64
    assert all(p.response_status for p in db.session.scalars(
        select(Priority).where(Priority.round_id == maternity.id)))
    assert seed() == 0


def test_demo_pages_render(app, client):
    seed()
    db.session.commit()
    for url in ("/priorities", "/priorities/rounds/sickle-cell-research-priorities",
                "/priorities/rounds/maternity-research-priorities/results"):
        assert client.get(url).status_code == 200
