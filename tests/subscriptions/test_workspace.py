"""A partner's workspace: several audiences, the contacts on each (search, filters,
pages), removing, moving and exporting contacts, and each contact's consent history."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from feedback.accounts.permissions import PermissionDenied
from feedback.audit.models import AuditEvent
from feedback.extensions import db
from feedback.subscriptions import services, workspace
from feedback.subscriptions.models import (
    Audience,
    ConsentAction,
    ConsentRecord,
    Subscriber,
    SubscriberStatus,
)
from tests.updates.test_query_counts import queries_for

SETTINGS = {"name": "Apna news", "sender_name": "Apna Health Forum", "languages": ["en", "ur"],
            "cadence": "weekly", "send_weekday": "0", "send_hour": "9"}


@pytest.fixture
def partner(make_org, make_user, login_as):
    org = make_org(kind="vcse", name="Apna Health Forum")
    staff = make_user(org=org, email="staff@apna.example.org")
    client = login_as(staff)
    assert client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS).status_code == 302
    return org, staff, client


def add(staff, audience, email, name="", language="en", attested=True):
    services.add_contact(staff, audience, {"email": email, "name": name, "language": language,
                                           "attested": attested, "basis": "Paper form"})
    db.session.flush()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email,
                                                      Subscriber.audience_id == audience.id))


def test_a_second_audience_keeps_the_original_newsletter_page(partner):
    org, _staff, client = partner
    response = client.post(f"/partners/{org.slug}/audiences", data={"name": "Youth, English"})
    assert response.status_code == 302
    first, second = workspace.partner_audiences(org.id)
    assert (first.name, second.name) == ("Apna news", "Youth, English")
    assert response.headers["Location"].endswith(
        f"/partners/{org.slug}/audiences/{second.id}/newsletter")
    assert second.languages == ["en", "ur"] and second.sender_name == "Apna Health Forum"
    # The original URL still shows the first audience; the new one has its own page.
    assert "Apna news" in client.get(f"/partners/{org.slug}/newsletter").get_data(as_text=True)
    page = client.get(f"/partners/{org.slug}/audiences/{second.id}/newsletter")
    assert "Youth, English" in page.get_data(as_text=True)
    # Renaming the second through its settings leaves the first alone.
    assert client.post(f"/partners/{org.slug}/audiences/{second.id}/newsletter",
                       data={**SETTINGS, "name": "Youth group"}).status_code == 302
    db.session.expire_all()
    assert (first.name, second.name) == ("Apna news", "Youth group")
    listing = client.get(f"/partners/{org.slug}/audiences").get_data(as_text=True)
    assert "Apna news" in listing and "Youth group" in listing
    # A duplicate or empty name is a 400 and nothing is saved.
    assert client.post(f"/partners/{org.slug}/audiences",
                       data={"name": "Youth group"}).status_code == 400
    assert client.post(f"/partners/{org.slug}/audiences", data={"name": " "}).status_code == 400
    assert client.post(f"/partners/{org.slug}/audiences/{second.id}/newsletter",
                       data={**SETTINGS, "name": "Apna news"}).status_code == 400
    assert len(workspace.partner_audiences(org.id)) == 2
    db.session.expire_all()
    assert second.name == "Youth group"
    assert db.session.scalar(select(AuditEvent.summary).where(
        AuditEvent.action == "newsletter.audience_created")) == "Audience created: Youth, English"


def test_contacts_search_filters_and_pages(partner):
    org, staff, client = partner
    audience = services.partner_audience(org.id)
    add(staff, audience, "fatima@example.org", "Fatima Begum", "ur")
    add(staff, audience, "bilal@example.org", "Bilal", "en", attested=False)
    add(staff, audience, "yusuf@example.org", "Yusuf", "ur")
    db.session.commit()
    base = f"/partners/{org.slug}/audiences/{audience.id}/contacts"

    def names(query: str) -> list[str]:
        page = client.get(f"{base}?{query}")
        assert page.status_code == 200
        return [name for name in ("Fatima", "Bilal", "Yusuf")
                if f">{name}" in page.get_data(as_text=True)]

    assert names("") == ["Fatima", "Bilal", "Yusuf"]
    assert names("q=begum") == ["Fatima"]
    assert names("q=BILAL%40example") == ["Bilal"]
    assert names("q=%25") == []  # a wildcard typed is a character, not a pattern
    assert names("language=ur") == ["Fatima", "Yusuf"]
    assert names("status=pending") == ["Bilal"]
    assert names("status=confirmed&language=ur&q=yus") == ["Yusuf"]
    assert names("channel=sms") == []
    assert names("status=nonsense") == ["Fatima", "Bilal", "Yusuf"]
    filters = workspace.ContactFilters()
    for number in range(30):
        add(staff, audience, f"person{number}@example.org", f"Person {number}")
    first = workspace.list_contacts(staff, audience, filters, 1)
    second = workspace.list_contacts(staff, audience, filters, 2)
    assert len(first.items) == 25 and first.has_next
    assert len(second.items) == 8 and not second.has_next
    assert not {c.id for c in first.items} & {c.id for c in second.items}


def test_the_contacts_page_runs_the_same_number_of_queries_however_many_it_shows(partner):
    org, staff, client = partner
    audience = services.partner_audience(org.id)
    add(staff, audience, "one@example.org", "One")
    db.session.commit()
    path = f"/partners/{org.slug}/audiences/{audience.id}/contacts"
    few = queries_for(client, path)
    for number in range(20):
        add(staff, audience, f"p{number}@example.org", f"P {number}", attested=number % 2 == 0)
    db.session.commit()
    assert queries_for(client, path) == few


def test_removing_a_contact_records_the_unsubscription_and_is_audited(partner):
    org, staff, client = partner
    audience = services.partner_audience(org.id)
    contact = add(staff, audience, "fatima@example.org", "Fatima", "ur")
    db.session.commit()
    url = f"/partners/{org.slug}/audiences/{audience.id}/contacts/{contact.id}"
    assert client.post(f"{url}/remove").status_code == 303
    db.session.expire_all()
    assert contact.status == SubscriberStatus.UNSUBSCRIBED
    actions = [r.action for r in db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.subscriber_id == contact.id).order_by(ConsentRecord.id))]
    assert actions == [ConsentAction.ATTESTED, ConsentAction.UNSUBSCRIBED]
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "newsletter.contact_removed"))
    assert "fatima" not in event.summary.lower()
    page = client.get(url).get_data(as_text=True)
    assert "Agreement recorded by your staff" in page and "Removed by your staff" in page
    assert "Paper form" in page


def test_moving_a_contact_between_audiences(partner):
    org, staff, client = partner
    first = services.partner_audience(org.id)
    second = workspace.create_audience(staff, org, "Women's group, Urdu")
    contact = add(staff, first, "fatima@example.org", "Fatima", "ur")
    add(staff, second, "bilal@example.org", "Bilal")
    bilal_first = add(staff, first, "bilal@example.org", "Bilal")
    db.session.commit()
    base = f"/partners/{org.slug}/audiences/{first.id}/contacts"
    response = client.post(f"{base}/{contact.id}/move", data={"audience_id": str(second.id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert contact.audience_id == second.id and contact.status == SubscriberStatus.CONFIRMED
    sources = [r.source for r in workspace.consent_history(staff, contact)]
    assert sources[-2:] == [f"partner:{org.slug}:moved-from:{first.id}",
                            f"partner:{org.slug}:moved-to:{second.id}"]
    assert db.session.scalar(select(AuditEvent.summary).where(
        AuditEvent.action == "newsletter.contact_moved")) == (
        f"Moved contact {contact.id} from audience {first.id} to {second.id}")
    # Already on the other audience: a clear 400, nothing moved.
    refused = client.post(f"{base}/{bilal_first.id}/move", data={"audience_id": str(second.id)})
    assert refused.status_code == 400
    assert "already on that audience" in refused.get_data(as_text=True)
    # Another partner's audience is not one of ours.
    other = Audience(organisation_id=None, name="Platform", languages=[])
    db.session.add(other)
    db.session.commit()
    assert client.post(f"{base}/{bilal_first.id}/move",
                       data={"audience_id": str(other.id)}).status_code == 400
    db.session.expire_all()
    assert bilal_first.audience_id == first.id


def test_export_is_formula_safe_and_audited_without_addresses(partner):
    org, staff, client = partner
    audience = services.partner_audience(org.id)
    add(staff, audience, "fatima@example.org", "=HYPERLINK(\"http://evil\")", "ur")
    add(staff, audience, "bilal@example.org", "Bilal", "en")
    db.session.commit()
    response = client.post(f"/partners/{org.slug}/audiences/{audience.id}/contacts/export",
                           data={"language": "ur"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["email", "name", "language", "status"]
    assert rows[1][:3] == ["fatima@example.org", "'=HYPERLINK(\"http://evil\")", "ur"]
    assert len(rows) == 2  # the filter applies
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "newsletter.contacts_exported"))
    assert event.summary == "Exported 1 contacts"
    assert "example.org" not in repr(event.details)


def test_only_the_partners_own_staff_see_its_contacts(partner, make_org, make_user,
                                                      login_as):
    org, staff, _client = partner
    audience = services.partner_audience(org.id)
    contact = add(staff, audience, "fatima@example.org", "Fatima", "ur")
    db.session.commit()
    other = make_user(org=make_org(kind="vcse", name="Other"), email="x@other.example.org")
    client = login_as(other)
    base = f"/partners/{org.slug}/audiences/{audience.id}/contacts"
    for path in (base, f"{base}/{contact.id}"):
        assert client.get(path).status_code == 403
    assert client.post(f"{base}/export").status_code == 403
    assert client.post(f"{base}/{contact.id}/remove").status_code == 403
    with pytest.raises(PermissionDenied):
        workspace.export_contacts(other, audience, workspace.ContactFilters())
    db.session.expire_all()
    assert contact.status == SubscriberStatus.CONFIRMED


def test_the_send_time_is_entered_in_uk_time(partner):
    org, _staff, client = partner
    page = client.get(f"/partners/{org.slug}/newsletter").get_data(as_text=True)
    assert "Time (UK time)" in page and "this is UTC" not in page
    assert "Next edition due:" in page
