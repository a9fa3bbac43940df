"""A rejected phone number stops text messages to that number only, never email
(issue 13, item 8); phone numbers are checked and stored in E.164 where they come in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.core.addresses import address_hash
from feedback.core.validation import ValidationError
from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import Worker
from feedback.digests.models import Delivery
from feedback.extensions import db
from feedback.subscriptions import services
from feedback.subscriptions.models import Channel, Subscriber, Suppression
from tests.digest_support import (
    NOTIFY_API_KEY,
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    use_items,
)

CALLBACK_TOKEN = "receipt-token-0123456789"
BAD_PHONE = "not a phone number ☎"  # accepted at sign-up before phone numbers were checked


@pytest.fixture
def app_config(notify_api):
    return {"DELIVERY_CHANNEL": "notify", "NOTIFY_API_KEY": NOTIFY_API_KEY,
            "NOTIFY_BASE_URL": notify_api.url, "NOTIFY_EMAIL_TEMPLATE_ID": "template-email",
            "NOTIFY_SMS_TEMPLATE_ID": "template-sms", "NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN,
            "DELIVERY_RETRY_SECONDS": 0}


def _audience_with_a_texter(phone: str):
    audience = make_audience()
    add_subscribers(audience, 2)
    texter = db.session.scalar(select(Subscriber).where(
        Subscriber.email == "reader0@example.org"))
    texter.phone = phone
    db.session.commit()
    return audience


def _sent(notify_api, kind: str) -> list[dict]:
    return [r["body"] for r in notify_api.requests if r["path"].endswith(f"/{kind}")]


def test_a_rejected_number_stops_texts_to_it_but_not_email(app, notify_api):
    use_items(app, [item(1)])
    audience = _audience_with_a_texter(BAD_PHONE)
    start_edition_now(audience, "2026-W47")
    Worker().run()
    rows = {(d.subscriber.email, d.channel): d for d in db.session.scalars(select(Delivery))}
    text = rows[("reader0@example.org", Channel.SMS)]
    assert text.status == DeliveryStatus.FAILED
    assert rows[("reader0@example.org", Channel.EMAIL)].status == DeliveryStatus.SENT
    assert db.session.scalars(select(Suppression.address_hash)).all() == [
        address_hash(BAD_PHONE)]

    # The next edition still emails the person, and sends no text to the number.
    notify_api.requests.clear()
    start_edition_now(audience, "2026-W48")
    assert Worker().run() == 2
    assert sorted(b["email_address"] for b in _sent(notify_api, "email")) == [
        "reader0@example.org", "reader1@example.org"]
    assert _sent(notify_api, "sms") == []


def test_a_text_receipt_suppresses_the_number_and_an_email_receipt_the_address(
        app, client, notify_api):
    use_items(app, [item(1)])
    audience = _audience_with_a_texter("+447911123456")
    start_edition_now(audience)
    assert Worker().run() == 3
    headers = {"Authorization": f"Bearer {CALLBACK_TOKEN}"}
    text = db.session.scalar(select(Delivery).where(Delivery.channel == Channel.SMS))
    client.post("/delivery/notify/receipts", headers=headers, json={
        "id": "n-1", "reference": str(text.id), "status": "permanent-failure",
        "notification_type": "sms"})
    assert db.session.scalars(select(Suppression.address_hash)).all() == [
        address_hash("+447911123456")]
    assert not services.is_suppressed("reader0@example.org")
    mail = db.session.scalar(select(Delivery).where(
        Delivery.channel == Channel.EMAIL, Delivery.subscriber_id == text.subscriber_id))
    client.post("/delivery/notify/receipts", headers=headers, json={
        "id": "n-2", "reference": str(mail.id), "status": "permanent-failure",
        "notification_type": "email"})
    assert sorted(db.session.scalars(select(Suppression.address_hash))) == sorted([
        address_hash("+447911123456"), address_hash("reader0@example.org")])


@pytest.mark.parametrize("phone, stored", [
    ("07911 123456", "+447911123456"),
    ("+44 (0)7911 123456", "+447911123456"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("", ""),
])
def test_sign_up_stores_mobile_numbers_in_e164(client, phone, stored):
    response = client.post("/subscribe", data={"email": "amina@example.org", "language": "en",
                                               "cadence": "weekly", "phone": phone})
    assert response.status_code == 302
    assert db.session.scalar(select(Subscriber.phone)) == stored


@pytest.mark.parametrize("phone", [BAD_PHONE, "020 7946 0000", "12345", "+44 7911 12345678"])
def test_sign_up_refuses_what_is_not_a_mobile_number(client, phone):
    response = client.post("/subscribe", data={"email": "amina@example.org", "language": "en",
                                               "cadence": "weekly", "phone": phone})
    assert response.status_code == 400
    assert "Enter a mobile number, like 07911 123456" in response.get_data(as_text=True)
    assert db.session.scalar(select(Subscriber)) is None
    with pytest.raises(ValidationError):
        services.subscribe({"email": "amina@example.org", "language": "en", "phone": phone},
                           "/subscribe")
