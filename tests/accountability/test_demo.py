from __future__ import annotations

from feedback.accountability.services import platform_records
from feedback.demo import seed
from feedback.extensions import db


def test_every_demo_organisation_has_a_populated_record(app, client, outbox):
    assert seed() > 0
    db.session.commit()
    records = platform_records()
    assert len(records) == 8
    assert [r.organisation.slug for r in records if r.is_empty] == []
    research = next(r for r in records if r.organisation.slug == "midlands-health-research")
    assert research.promised and research.promised[0].updates  # promised and delivered
    assert seed() == 0
    for record in records:
        url = f"/organisations/{record.organisation.slug}/accountability"
        assert client.get(url).status_code == 200
    assert client.get("/accountability").status_code == 200
