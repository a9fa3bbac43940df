"""A VCSE partner runs its own newsletter: contacts, CSV import, preview, test, send."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from feedback.accounts.permissions import PermissionDenied
from feedback.delivery.services import Worker
from feedback.extensions import db
from feedback.subscriptions import services
from feedback.subscriptions.models import (
    ConsentAction,
    ConsentRecord,
    Subscriber,
    SubscriberStatus,
)
from tests.digest_support import item, use_items

SETTINGS = {"name": "Apna news", "sender_name": "Apna Health Forum", "intro": "Salaam **all**",
            "languages": ["en", "ur"], "cadence": "weekly", "send_weekday": "0",
            "send_hour": "9"}

CSV = """email,name,language
fatima@example.org,Fatima,ur
not-an-email,Bad,en
bilal@example.org,Bilal,xx
fatima@example.org,Fatima again,ur
a@example.org,b,c,d,e

yusuf@example.org,,
"""


@pytest.fixture
def partner(make_org, make_user, login_as):
    org = make_org(kind="vcse", name="Apna Health Forum")
    staff = make_user(org=org, email="staff@apna.example.org")
    return org, staff, login_as(staff)


def test_settings_then_csv_import_reports_every_bad_row(partner, outbox):
    org, staff, client = partner
    assert client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS).status_code == 302
    response = client.post(f"/partners/{org.slug}/newsletter/import", data={
        "file": (io.BytesIO(CSV.encode()), "contacts.csv"), "attested": "y",
        "basis": "They signed our paper form at the June health day"},
        content_type="multipart/form-data")
    assert response.status_code == 303  # to the import's progress page
    assert services.run_pending_imports() == 1  # the job
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 contacts added" in page
    for line, reason in [(3, "correct format"), (4, "Unknown language"),
                         (5, "earlier in the file"), (6, "Too many columns")]:
        assert f'<td class="nhsuk-table__cell">{line}</td>' in page
        assert reason in page
    confirmed = db.session.scalars(select(Subscriber.email).where(
        Subscriber.status == SubscriberStatus.CONFIRMED).order_by(Subscriber.email)).all()
    assert confirmed == ["fatima@example.org", "yusuf@example.org"]
    record = db.session.scalar(select(ConsentRecord).where(
        ConsentRecord.action == ConsentAction.ATTESTED).limit(1))
    assert record.attested_by_id == staff.id
    assert record.source == f"partner:{org.slug}" and "June health day" in record.basis
    assert outbox.messages() == []  # attested: no confirmation emails


def test_contacts_without_attestation_get_double_opt_in(partner, outbox):
    org, _staff, client = partner
    client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS)
    response = client.post(f"/partners/{org.slug}/newsletter/contacts",
                           data={"email": "zara@example.org", "language": "ur"})
    assert response.status_code == 302
    subscriber = db.session.scalar(select(Subscriber))
    assert subscriber.status == SubscriberStatus.PENDING
    assert "Apna news" in outbox.text(outbox.last())
    # Attesting needs the basis.
    response = client.post(f"/partners/{org.slug}/newsletter/contacts",
                           data={"email": "omar@example.org", "attested": "y"})
    assert response.status_code == 400


def test_preview_every_language_test_send_then_send(app, partner, outbox):
    org, staff, client = partner
    use_items(app, [item(1, title="Saturday diabetes clinic")])
    client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS)
    audience = services.partner_audience(org.id)
    services.add_contact(staff, audience, {"email": "fatima@example.org", "language": "ur",
                                           "attested": True, "basis": "paper form"})
    db.session.commit()

    response = client.post(f"/partners/{org.slug}/newsletter/prepare")
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "Missing translations" in page  # nothing is translated into Urdu yet
    assert page.count('<iframe class="app-preview-frame"') == 2
    edition_id = int(preview_url.rstrip("/").rsplit("/", 1)[1])
    frame = client.get(f"/newsletter/editions/{edition_id}/ur/email.html")
    assert '<html lang="ur" dir="rtl">' in frame.get_data(as_text=True)
    assert "'unsafe-inline'" in frame.headers["Content-Security-Policy"]

    client.post(f"/newsletter/editions/{edition_id}/test")
    tests = [m for m in outbox.messages() if m["To"] == "staff@apna.example.org"]
    assert len(tests) == 2 and all(m["Subject"].startswith("[Test]") for m in tests)

    assert client.post(f"/newsletter/editions/{edition_id}/send").status_code == 302
    assert Worker().run() == 1
    digest = outbox.last()
    assert digest["To"] == "fatima@example.org"
    assert digest["From"].startswith("Apna Health Forum")
    assert "Saturday diabetes clinic" in outbox.text(digest)
    # Frozen: sending again is refused, and nobody gets a second copy.
    client.post(f"/newsletter/editions/{edition_id}/send")
    assert Worker().run() == 0


def test_other_organisations_cannot_touch_the_newsletter(partner, make_org, make_user,
                                                         login_as):
    org, _staff, _client = partner
    other = make_user(org=make_org(kind="vcse"))
    with pytest.raises(PermissionDenied):
        services.save_partner_audience(other, org, SETTINGS)
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_every_newsletter_route_refuses_another_organisations_editor(app, partner, make_org,
                                                                     make_user, login_as):
    from feedback.digests import services as digests

    org, staff, client = partner
    use_items(app, [item(1)])
    client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS)
    audience = services.partner_audience(org.id)
    services.add_contact(staff, audience, {"email": "fatima@example.org", "attested": True,
                                           "basis": "paper form"})
    edition = digests.prepare_next(staff, audience)
    db.session.commit()
    edition_id, subscribers = edition.id, db.session.scalar(
        select(func.count()).select_from(Subscriber))

    intruder = login_as(make_user(org=make_org(kind="vcse"), org_role="admin"))
    # Requests share the test's app context, so drop Flask-Login's cached user.
    from flask import g

    g.pop("_login_user", None)
    for url in [f"/partners/{org.slug}/newsletter", f"/partners/{org.slug}/newsletter/contacts",
                f"/partners/{org.slug}/newsletter/import",
                f"/partners/{org.slug}/newsletter/prepare",
                f"/newsletter/editions/{edition_id}/test",
                f"/newsletter/editions/{edition_id}/send"]:
        response = intruder.post(url, data={**SETTINGS, "email": "x@example.org"})
        assert response.status_code == 403, (url, response.headers.get("Location"))
    for url in [f"/partners/{org.slug}/newsletter", f"/newsletter/editions/{edition_id}",
                f"/newsletter/editions/{edition_id}/en/email.html"]:
        assert intruder.get(url).status_code == 403, url
    db.session.expire_all()
    assert services.partner_audience(org.id).name == "Apna news"
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == subscribers
    from feedback.digests.models import Edition, EditionStatus

    assert db.session.get(Edition, edition_id).status == EditionStatus.DRAFT


def test_a_partner_newsletter_contact_manages_their_preferences(app, partner):
    """The "manage preferences" link in every partner newsletter (it gave a 500)."""
    org, staff, client = partner
    client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS)
    audience = services.partner_audience(org.id)
    services.add_contact(staff, audience, {"email": "fatima@example.org", "language": "ur",
                                           "attested": True, "basis": "paper form"})
    db.session.commit()
    subscriber = db.session.scalar(select(Subscriber))
    link = services.links_for(subscriber.id)["manage"]
    reader = app.test_client()
    page = reader.get(link)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="ur"' in html and 'value="en"' in html
    assert 'value="cy"' not in html  # only the newsletter's languages are offered
    response = reader.post(link, data={"language": "en", "name": "Fatima B"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (subscriber.language, subscriber.name) == ("en", "Fatima B")
