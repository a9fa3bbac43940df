"""Partner CSV import as a job (issue 13 item 6): a file that cannot be read as CSV is a
400 naming the line; good files are saved by a job in chunks, with a progress page; the
confirmation emails are queued in the outbox with the contacts and sent by the delivery
workers, never inside the request."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import deliver_due
from feedback.extensions import db
from feedback.subscriptions import services
from feedback.subscriptions.models import (
    Confirmation,
    ConsentAction,
    ConsentRecord,
    ContactImport,
    ImportStatus,
    Subscriber,
    SubscriberStatus,
)

SETTINGS = {"name": "Apna news", "sender_name": "Apna Health Forum", "languages": ["en", "ur"],
            "cadence": "weekly", "send_weekday": "0", "send_hour": "9"}


@pytest.fixture
def partner(make_org, make_user, login_as):
    org = make_org(kind="vcse", name="Apna Health Forum")
    client = login_as(make_user(org=org, email="staff@apna.example.org"))
    assert client.post(f"/partners/{org.slug}/newsletter", data=SETTINGS).status_code == 302
    return org, client


def _upload(client, org, text: str, **form):
    return client.post(f"/partners/{org.slug}/newsletter/import", data={
        "file": (io.BytesIO(text.encode()), "contacts.csv"), **form},
        content_type="multipart/form-data")


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize(("text", "line"), [
    ('email,name\nfatima@example.org,Fatima\nbilal@example.org,"Bilal\nyusuf@example.org,Yusuf\n',
     3),  # a quote mark never closed
    ("email,name\nfatima@example.org,Fatima\nbilal@example.org," + "x" * 131_073 + "\n", 3),
])
def test_a_file_that_is_not_valid_csv_is_a_400_naming_the_line(partner, outbox, text, line):
    org, client = partner
    response = _upload(client, org, text)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"Line {line} of the file cannot be read as CSV" in page
    assert _count(ContactImport) == 0 and _count(Subscriber) == 0
    assert outbox.messages() == []


def test_2000_rows_are_saved_by_the_job_and_2000_confirmations_queued_not_sent(
        partner, outbox):
    org, client = partner
    rows = "".join(f"person{n}@example.org,Person {n},ur\n" for n in range(2000))
    response = _upload(client, org, "email,name,language\n" + rows)
    assert response.status_code == 303
    progress_url = response.headers["Location"]
    assert _count(Subscriber) == 0  # the request only checks and queues the import
    page = client.get(progress_url).get_data(as_text=True)
    assert "Saved 0 of 2000 contacts." in page and 'data-refresh-seconds="2"' in page
    assert "js/progress.js" in page

    # One chunk at a time, each committed with its progress (so a dead job resumes).
    job = db.session.scalar(select(ContactImport))
    assert services.import_next_chunk(job) is True
    db.session.commit()
    assert (job.processed, _count(Subscriber), _count(Confirmation)) == (200, 200, 200)
    assert "Saved 200 of 2000 contacts." in client.get(progress_url).get_data(as_text=True)

    assert services.run_pending_imports() == 1
    db.session.expire_all()
    assert (job.status, job.processed, job.added, job.already) == (ImportStatus.DONE, 2000,
                                                                   2000, 0)
    assert job.rows == []  # no second copy of the contacts is kept
    assert _count(Subscriber, Subscriber.status == SubscriberStatus.PENDING) == 2000
    assert _count(Confirmation, Confirmation.status == DeliveryStatus.PENDING) == 2000
    assert _count(ConsentRecord, ConsentRecord.action == ConsentAction.REQUESTED) == 2000
    assert outbox.messages() == []  # queued, not sent
    page = client.get(progress_url).get_data(as_text=True)
    assert "2000 contacts added, 0 already on your list." in page
    assert "data-refresh-seconds" not in page
    assert services.run_pending_imports() == 0  # nothing left, nothing doubled
    assert _count(Subscriber) == 2000


def test_the_delivery_workers_send_the_confirmations_and_their_links_work(partner, client,
                                                                          outbox):
    org, staff_client = partner
    response = _upload(staff_client, org, "zara@example.org,Zara,ur\nomar@example.org,Omar\n")
    services.run_pending_imports()
    assert outbox.messages() == []
    assert deliver_due() == 2
    messages = {m["To"]: m for m in outbox.messages()}
    assert set(messages) == {"zara@example.org", "omar@example.org"}
    assert messages["zara@example.org"]["Content-Language"] == "ur"
    text = outbox.text(messages["omar@example.org"])
    assert "Apna news" in text
    link = re.search(r"http://localhost/subscribe/confirm/\S+", text).group(0)
    token = link.rsplit("/", 1)[1]
    assert client.post(f"/subscribe/confirm/{token}").status_code == 303
    omar = db.session.scalar(select(Subscriber).where(Subscriber.email == "omar@example.org"))
    assert omar.status == SubscriberStatus.CONFIRMED
    assert deliver_due() == 0  # each is sent once
    assert response.status_code == 303


def test_someone_who_confirmed_or_left_before_the_email_went_is_not_sent_it(partner, outbox):
    org, client = partner
    _upload(client, org, "zara@example.org,Zara\n")
    services.run_pending_imports()
    zara = db.session.scalar(select(Subscriber))
    services.unsubscribe(zara, "test")
    db.session.commit()
    assert deliver_due() == 0 and outbox.messages() == []
    assert db.session.scalar(select(Confirmation.status)) == DeliveryStatus.CANCELLED
