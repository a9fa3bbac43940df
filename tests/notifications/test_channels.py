"""Follower notifications through a real SMTP server and the local GOV.UK Notify API: a
temporary failure backs off and is retried, a permanent one suppresses the address, and
Notify receipts find the notification."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback.core.addresses import address_hash
from feedback.core.models import utcnow
from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import Worker
from feedback.extensions import db
from feedback.notifications.models import Notification
from feedback.subscriptions.models import Suppression
from feedback.updates import services as updates
from tests.digest_support import NOTIFY_API_KEY


@pytest.fixture
def followers(make_user, dataset):
    people = [make_user(email=f"reader{n}@example.org") for n in range(2)]
    for person in people:
        updates.follow(person, "dataset", dataset.id)
    db.session.commit()
    return people


def _smtp(app, smtp_sink) -> None:
    app.config.update(smtp_sink.config(), DELIVERY_CHANNEL="smtp", DELIVERY_RETRY_SECONDS=60)


def test_a_deferred_message_backs_off_then_goes_once(app, smtp_sink, followers, make_update,
                                                     notifications):
    _smtp(app, smtp_sink)
    make_update()
    smtp_sink.plan = ["defer"]  # 451 for the first message the server sees
    before = utcnow()
    assert Worker().run() == 1
    # Both go at once (two connections), so either row may be the one deferred.
    first, second = sorted(notifications(), key=lambda row: row.status != DeliveryStatus.PENDING)
    assert first.status == DeliveryStatus.PENDING and "451" in first.last_error
    assert 55 <= (first.next_attempt_at - before).total_seconds() <= 70
    assert second.status == DeliveryStatus.SENT

    assert Worker().run() == 0  # not due yet
    first.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert Worker().run() == 1
    assert sorted(smtp_sink.recipients().values()) == [1, 1]
    assert {row.status for row in notifications()} == {DeliveryStatus.SENT}
    db.session.refresh(first)
    assert first.attempts == 2


def test_a_refused_address_is_suppressed_and_never_retried(app, smtp_sink, followers,
                                                           make_update, notifications):
    _smtp(app, smtp_sink)
    make_update()
    smtp_sink.plan = ["reject"]  # 550 for the first message the server sees
    assert Worker().run() == 1
    # Both go at once (two connections), so either row may be the one refused.
    first, second = sorted(notifications(), key=lambda row: row.status != DeliveryStatus.FAILED)
    assert first.status == DeliveryStatus.FAILED and second.status == DeliveryStatus.SENT
    refused = next(f for f in followers if f.id == first.user_id)
    assert db.session.scalars(select(Suppression.address_hash)).all() == [
        address_hash(refused.email)]
    make_update(title="Another update")  # a suppressed address is not even queued
    assert {row.user_id for row in notifications()[2:]} == {second.user_id}


def test_notify_gets_a_reference_its_receipts_find(app, client, notify_api, followers,
                                                   make_update, notifications):
    app.config.update(DELIVERY_CHANNEL="notify", NOTIFY_API_KEY=NOTIFY_API_KEY,
                      NOTIFY_BASE_URL=notify_api.url, NOTIFY_EMAIL_TEMPLATE_ID="template-email",
                      NOTIFY_CALLBACK_TOKEN="receipt-token")
    make_update()
    assert Worker().run() == 2
    bodies = [r["body"] for r in notify_api.requests]
    rows = notifications()
    assert {body["reference"] for body in bodies} == {f"notification-{row.id}"
                                                      for row in rows}
    # Notify shows its own unsubscribe link from this (one-click, signed, per person).
    assert all(body["one_click_unsubscribe_url"].startswith("https://")
               and "/following/stop/" in body["one_click_unsubscribe_url"] for body in bodies)
    assert len({body["one_click_unsubscribe_url"] for body in bodies}) == 2
    assert bodies[0]["personalisation"]["subject"].startswith("New update: ")

    receipt = {"id": "notify-9", "reference": f"notification-{rows[0].id}",
               "status": "permanent-failure", "notification_type": "email"}
    response = client.post("/delivery/notify/receipts", json=receipt,
                           headers={"Authorization": "Bearer receipt-token"})
    assert response.json["data"] == {"recorded": True}
    row = db.session.get(Notification, rows[0].id)
    assert (row.receipt_status, row.provider_id) == ("permanent-failure", "notify-9")
    assert db.session.scalars(select(Suppression.address_hash)).all() == [
        address_hash("reader0@example.org")]
