"""Digests through a real SMTP server (aiosmtpd on loopback), including its faults."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from feedback.core.addresses import address_hash
from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import Worker
from feedback.digests.models import Delivery, Edition, EditionStatus
from feedback.extensions import db
from feedback.subscriptions import services as subscriptions
from feedback.subscriptions.models import Subscriber, SubscriberStatus, Suppression
from tests.digest_support import (
    SmtpSink,
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    use_items,
)


@pytest.fixture
def smtp_sink():
    sink = SmtpSink(username="digest", password="s3cret").start()
    yield sink
    sink.stop()


@pytest.fixture
def app_config(smtp_sink):
    return {**smtp_sink.config(), "DELIVERY_RETRY_SECONDS": 0, "DELIVERY_BATCH_SIZE": 5,
            "BASE_URL": "http://feedback.test"}


def _statuses() -> dict:
    rows = db.session.execute(select(Delivery.status, Delivery.id)).all()
    result: dict = {}
    for status, _id in rows:
        result[status] = result.get(status, 0) + 1
    return result


def test_a_digest_arrives_with_its_headers_parts_language_and_links(app, smtp_sink):
    use_items(app, [item(1, title="Saturday clinics")])
    audience = make_audience(name="Riverside news", languages=["en", "ur"])
    add_subscribers(audience, 4, languages=("en", "ur"))
    edition_id = start_edition_now(audience)

    assert Worker().run() == 4
    assert sorted(smtp_sink.recipients().values()) == [1, 1, 1, 1]
    assert len(smtp_sink.sessions) == 2  # two authenticated connections (the default)
    urdu = next(m for m in smtp_sink.messages if m["To"] == "reader1@example.org")
    subscriber = db.session.scalar(select(Subscriber).where(
        Subscriber.email == "reader1@example.org"))

    unsubscribe = re.fullmatch(r"<(https://feedback\.test/subscriptions/unsubscribe/\S+)>",
                               urdu["List-Unsubscribe"]).group(1)
    assert urdu["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert urdu["List-Id"] == f"Riverside news <audience-{audience.id}.feedback.test>"
    assert urdu["Message-ID"] == f"<digest.{edition_id}.{subscriber.id}.email@feedback.test>"
    assert urdu["Content-Language"] == "ur"
    assert "Test sender" in urdu["From"]
    english = next(m for m in smtp_sink.messages if m["To"] == "reader0@example.org")
    assert re.fullmatch(r"Riverside news, week of \d{1,2} \w+ 20\d\d", english["Subject"])
    # The Urdu catalog joins the two with an Arabic comma; dates in Urdu come from CLDR.
    assert urdu["Subject"].startswith("Riverside news، ")
    html = urdu.get_body(preferencelist=("html",)).get_content()
    text = urdu.get_body(preferencelist=("plain",)).get_content()
    assert '<html lang="ur" dir="rtl">' in html
    assert "Saturday clinics" in html and "Saturday clinics" in text
    assert "Reader 1" in html and "Reader 1" in text  # the name, put in per recipient
    assert unsubscribe.replace("https://", "http://") in text  # the visible link
    assert "@@" not in html + text

    # The one-click POST from the header works with no session and no CSRF token.
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post(unsubscribe.replace("https://feedback.test", ""),
                                      data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.refresh(subscriber)
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    assert db.session.get(Edition, edition_id).status == EditionStatus.SENT


def test_refused_and_dropped_connections_end_with_exactly_one_copy_each(app, smtp_sink):
    """Fault 1: the server refuses connections, then drops and defers some messages."""
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 12)
    start_edition_now(audience)

    smtp_sink.stop()  # connections refused
    worker = Worker()
    assert worker.run_batch() == 5
    assert _statuses() == {DeliveryStatus.PENDING: 12}

    smtp_sink.start()
    smtp_sink.plan = ["accept", "drop", "defer", "accept", "drop", "drop", "defer"]
    Worker().run()
    copies = smtp_sink.recipients()
    assert len(copies) == 12 and set(copies.values()) == {1}
    assert _statuses() == {DeliveryStatus.SENT: 12}


def test_a_permanent_failure_suppresses_the_address(app, smtp_sink):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 3)
    start_edition_now(audience)
    smtp_sink.plan = ["reject"]
    Worker().run()
    failed = db.session.scalar(select(Delivery).where(Delivery.status == DeliveryStatus.FAILED))
    assert failed is not None
    suppressed = db.session.scalars(select(Suppression.address_hash)).all()
    assert suppressed == [address_hash(failed.subscriber.email)]  # never the address itself

    # The next edition leaves the suppressed address out.
    start_edition_now(audience, "2026-W48")
    Worker().run()
    assert smtp_sink.recipients()[failed.subscriber.email] == 0


def test_an_unsubscribe_during_a_run_stops_mail_to_that_address(app, smtp_sink):
    """Fault 3: two readers unsubscribe while the run is under way, as the first message
    is accepted. Each batch is checked as it is claimed, and the worker claims the next
    batch only once it has queued the one before (``Worker.ROUNDS_AHEAD`` rounds ahead of
    the connections), so with batches longer than that queue the second batch is claimed
    after the unsubscribe: its reader gets nothing. The first batch was checked before
    anything went, so its reader still gets this edition (and no other)."""
    batch = 2 * (Worker.ROUNDS_AHEAD + 4)  # two connections: four rounds more than queued
    app.config["DELIVERY_BATCH_SIZE"] = batch
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 2 * batch)
    start_edition_now(audience)
    first_batch, second_batch = (db.session.scalar(select(Subscriber).where(
        Subscriber.email == f"reader{n}@example.org")) for n in (batch - 1, batch + 1))
    links = [subscriptions.links_for(s.id)["unsubscribe"] for s in (first_batch, second_batch)]

    def unsubscribe_both(message):
        if len(smtp_sink.messages) == 1:
            client = app.test_client()
            for link in links:
                assert client.post(link, data={"List-Unsubscribe": "One-Click"}
                                   ).status_code == 200

    smtp_sink.on_message = unsubscribe_both
    assert Worker().run() == 2 * batch - 1
    copies = smtp_sink.recipients()
    assert copies[second_batch.email] == 0 and copies[first_batch.email] == 1
    assert len(copies) == 2 * batch - 1 and set(copies.values()) == {1}
    statuses = dict(db.session.execute(select(Delivery.subscriber_id, Delivery.status)).all())
    assert statuses[second_batch.id] == DeliveryStatus.CANCELLED
    assert statuses[first_batch.id] == DeliveryStatus.SENT
    assert db.session.get(Subscriber, first_batch.id).status != SubscriberStatus.CONFIRMED


def test_a_paused_edition_waits_and_resumes(app, smtp_sink):
    from feedback.digests.sending import pause, resume

    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 3)
    edition = db.session.get(Edition, start_edition_now(audience))
    pause(edition)
    db.session.commit()
    assert Worker().run() == 0
    resume(edition)
    db.session.commit()
    assert Worker().run() == 3
