"""GOV.UK Notify through a local server implementing its documented endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from feedback.core.addresses import address_hash
from feedback.core.models import utcnow
from feedback.delivery.channels import seconds_until_uk_midnight
from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import Worker
from feedback.digests.models import Delivery
from feedback.extensions import db
from feedback.subscriptions.models import Subscriber, Suppression
from tests.digest_support import (
    NOTIFY_API_KEY,
    NOTIFY_SERVICE_ID,
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    use_items,
)

CALLBACK_TOKEN = "receipt-token-0123456789"


@pytest.fixture
def app_config(notify_api):
    return {"DELIVERY_CHANNEL": "notify", "NOTIFY_API_KEY": NOTIFY_API_KEY,
            "NOTIFY_BASE_URL": notify_api.url, "NOTIFY_EMAIL_TEMPLATE_ID": "template-email",
            "NOTIFY_SMS_TEMPLATE_ID": "template-sms", "NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN,
            "DELIVERY_RETRY_SECONDS": 0, "BASE_URL": "http://feedback.test"}


def test_the_official_client_is_pointed_at_the_configured_server(app, notify_api):
    from feedback.delivery.channels import NotifyChannel

    channel = NotifyChannel()
    assert channel.client.base_url == notify_api.url
    assert channel.client.service_id == NOTIFY_SERVICE_ID
    channel.close()


def test_emails_and_texts_go_with_reference_and_one_click_url(app, notify_api):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 2)
    texter = db.session.scalar(select(Subscriber).where(Subscriber.email ==
                                                        "reader0@example.org"))
    texter.phone = "07700900123"
    db.session.commit()
    start_edition_now(audience)

    assert Worker().run() == 3
    assert notify_api.rejected_tokens == 0
    emails = [r["body"] for r in notify_api.requests if r["path"].endswith("/email")]
    texts = [r["body"] for r in notify_api.requests if r["path"].endswith("/sms")]
    assert len(emails) == 2 and len(texts) == 1
    deliveries = {d.id: d for d in db.session.scalars(select(Delivery))}
    for body in emails:
        delivery = deliveries[int(body["reference"])]
        assert body["email_address"] == delivery.subscriber.email
        assert body["one_click_unsubscribe_url"].startswith(
            "https://feedback.test/subscriptions/unsubscribe/")
        assert "Update 1" in body["personalisation"]["body"]
        assert delivery.status == DeliveryStatus.SENT and delivery.provider_id
    assert texts[0]["phone_number"] == "07700900123"


def test_429_backs_off_the_whole_batch_and_5xx_retries_without_failing(app, notify_api):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 3)
    start_edition_now(audience)
    notify_api.plan = [429]
    assert Worker().run() == 0
    rows = db.session.scalars(select(Delivery)).all()
    assert {row.status for row in rows} == {DeliveryStatus.PENDING}
    assert all("429" in row.last_error and row.attempts == 0 for row in rows)
    assert all(row.next_attempt_at > utcnow() + timedelta(seconds=30) for row in rows)
    assert notify_api.requests == []  # nothing more was tried during the pause

    for row in rows:
        row.next_attempt_at = utcnow()
    db.session.commit()
    notify_api.plan = [500, 503]
    assert Worker().run() == 3
    assert db.session.scalars(select(Delivery.status)).all() == [DeliveryStatus.SENT] * 3
    assert len(notify_api.requests) == 3


def test_receipts_need_the_bearer_token_and_are_safe_twice(app, client, notify_api):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 1)
    start_edition_now(audience)
    Worker().run()
    delivery = db.session.scalar(select(Delivery))
    receipt = {"id": "notify-1", "reference": str(delivery.id), "to": "reader0@example.org",
               "status": "permanent-failure", "notification_type": "email"}

    assert client.post("/delivery/notify/receipts", json=receipt).status_code == 401
    assert client.post("/delivery/notify/receipts", json=receipt, headers={
        "Authorization": "Bearer wrong"}).status_code == 401
    for _time in range(2):
        response = client.post("/delivery/notify/receipts", json=receipt, headers={
            "Authorization": f"Bearer {CALLBACK_TOKEN}"})
        assert response.status_code == 200 and response.json["data"] == {"recorded": True}
    db.session.refresh(delivery)
    assert delivery.receipt_status == "permanent-failure"
    assert db.session.scalars(select(Suppression.address_hash)).all() == [
        address_hash("reader0@example.org")]


def test_the_daily_limit_pauses_sending_until_uk_midnight(app, notify_api):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 2)
    start_edition_now(audience)
    notify_api.plan = ["daily-limit"]
    assert Worker().run() == 0
    rows = db.session.scalars(select(Delivery)).all()
    assert {row.status for row in rows} == {DeliveryStatus.PENDING}
    assert all("daily limit" in row.last_error and row.attempts == 0 for row in rows)
    resume = min(row.next_attempt_at for row in rows)
    assert resume >= utcnow() + timedelta(seconds=seconds_until_uk_midnight() - 120)
    assert notify_api.requests == []


def test_uk_midnight_follows_british_summer_time():
    # 23:30 UTC on 1 July is 00:30 BST on 2 July: the next UK midnight is 23:00 UTC that day.
    assert seconds_until_uk_midnight(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == \
        (23 * 60 + 30) * 60 + 60
    # In winter the UK is on UTC.
    assert seconds_until_uk_midnight(datetime(2026, 1, 15, 23, 0, tzinfo=UTC)) == 3600 + 60
