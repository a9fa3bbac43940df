"""Adding one contact (either way) and sending a test are audited, without the address
(issue 13, item 16)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.audit.models import AuditEvent
from feedback.extensions import db
from feedback.subscriptions import services
from tests.digest_support import item, use_items

SETTINGS = {"name": "Apna news", "sender_name": "Apna Health Forum", "intro": "Salaam",
            "languages": ["en", "ur"], "cadence": "weekly", "send_weekday": "0",
            "send_hour": "9"}


@pytest.fixture
def partner(make_org, make_user, login_as):
    org = make_org(kind="vcse", name="Apna Health Forum")
    staff = make_user(org=org, email="staff@apna.example.org")
    client = login_as(staff)
    client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS)
    return org, staff, client


def _events(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def test_adding_a_single_contact_is_audited_both_ways(partner):
    org, staff, client = partner
    client.post(f"/partners/{org.slug}/newsletter/contacts",
                data={"email": "zara@example.org", "language": "ur"})
    client.post(f"/partners/{org.slug}/newsletter/contacts",
                data={"email": "omar@example.org", "attested": "y",
                      "basis": "Signed our paper form"})
    client.post(f"/partners/{org.slug}/newsletter/contacts",  # already there: nothing new
                data={"email": "omar@example.org", "attested": "y", "basis": "again"})
    events = _events("newsletter.contact_added")
    assert [e.details["attested"] for e in events] == [False, True]
    assert all(e.actor_id == staff.id and e.organisation_id == org.id for e in events)
    assert "already agreed" in events[1].summary
    for event in events:
        assert "@" not in event.summary and "@" not in str(event.details)


def test_a_test_send_is_audited(app, partner, outbox):
    org, staff, client = partner
    use_items(app, [item(1, title="Saturday diabetes clinic")])
    audience = services.partner_audience(org.id)
    services.add_contact(staff, audience, {"email": "fatima@example.org", "language": "ur",
                                           "attested": True, "basis": "paper form"})
    db.session.commit()
    preview = client.post(f"/partners/{org.slug}/newsletter/prepare").headers["Location"]
    edition_id = int(preview.rstrip("/").rsplit("/", 1)[1])
    client.post(f"/newsletter/editions/{edition_id}/test")
    [event] = _events("newsletter.test_sent")
    assert (event.actor_id, event.target_id, event.organisation_id) == (
        staff.id, edition_id, org.id)
    assert event.details["languages"] == ["en", "ur"]
