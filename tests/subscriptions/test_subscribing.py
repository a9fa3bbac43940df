"""Signing up with double opt-in, the consent ledger, preferences by signed link,
unsubscribing, and purging sign-ups nobody confirmed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.subscriptions import services
from feedback.subscriptions.models import (
    ConsentAction,
    ConsentRecord,
    Subscriber,
    SubscriberStatus,
)


def _subscribe(client, email="amina@example.org", **extra):
    data = {"email": email, "language": "ur", "cadence": "weekly", **extra}
    return client.post("/subscribe", data=data)


def _confirm_link(outbox) -> str:
    text = outbox.text(outbox.last())
    return re.search(r"http://localhost/subscribe/confirm/\S+", text).group(0)


def test_double_opt_in_records_consent_and_sends_nothing_before_confirming(client, outbox):
    response = _subscribe(client, topics=["maternity"])
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/subscribe/check-email")
    subscriber = db.session.scalar(select(Subscriber))
    assert subscriber.status == SubscriberStatus.PENDING
    assert subscriber.language == "ur" and subscriber.audience.topics == ["maternity"]
    assert outbox.last()["To"] == "amina@example.org"

    link = _confirm_link(outbox).replace("http://localhost", "")
    assert "Confirm" in client.get(link).get_data(as_text=True)  # GET changes nothing
    db.session.refresh(subscriber)
    assert subscriber.status == SubscriberStatus.PENDING
    response = client.post(link)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/subscribe/confirmed")
    db.session.refresh(subscriber)
    assert subscriber.status == SubscriberStatus.CONFIRMED
    page = client.get("/subscribe/confirmed").get_data(as_text=True)  # refreshing is safe
    assert "/subscriptions/manage/" in page
    assert client.post(link).status_code == 410  # works once

    ledger = services.consent_history(subscriber.id)
    assert [r.action for r in ledger] == [ConsentAction.REQUESTED, ConsentAction.CONFIRMED]
    assert {(r.source, r.wording_version, r.channel.value) for r in ledger} == {
        ("/subscribe", services.WORDING_VERSION, "email")}


def test_the_page_answers_the_same_for_known_and_unknown_addresses(client, outbox):
    unknown = _subscribe(client, email="new@example.org")
    _subscribe(client, email="known@example.org")
    known_subscriber = db.session.scalar(select(Subscriber).where(
        Subscriber.email == "known@example.org"))
    known_subscriber.status = SubscriberStatus.CONFIRMED
    db.session.commit()
    known = _subscribe(client, email="known@example.org")
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code, unknown.headers["Location"])
    # The known address is told it already subscribes (in the language chosen on the
    # form), and is not signed up twice.
    assert "اسے پہلے ہی اپ ڈیٹس مل رہی ہیں" in outbox.text(outbox.last())
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 2


def test_bad_input_shows_the_error_summary(client):
    response = _subscribe(client, email="not an address")
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)


def test_manage_preferences_with_a_signed_link_and_no_account(client, app):
    _subscribe(client)
    subscriber = db.session.scalar(select(Subscriber))
    token = services.signed_token(subscriber.id)
    assert client.get(f"/subscriptions/manage/{token}").status_code == 200
    response = client.post(f"/subscriptions/manage/{token}",
                           data={"name": "Amina", "language": "pl", "cadence": "monthly"})
    assert response.status_code == 302
    db.session.refresh(subscriber)
    assert (subscriber.name, subscriber.language) == ("Amina", "pl")
    assert subscriber.audience.cadence.value == "monthly"
    assert client.get(f"/subscriptions/manage/{token}x").status_code == 410


def test_one_click_unsubscribe_is_safe_to_repeat(client, app):
    _subscribe(client)
    subscriber = db.session.scalar(select(Subscriber))
    link = services.links_for(subscriber.id)["unsubscribe"]
    app.config["WTF_CSRF_ENABLED"] = True  # the POST needs no token and no session
    for _attempt in range(2):
        response = client.post(link, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    db.session.refresh(subscriber)
    assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
    unsubscribes = db.session.scalar(select(func.count()).select_from(ConsentRecord).where(
        ConsentRecord.action == ConsentAction.UNSUBSCRIBED))
    assert unsubscribes == 1


def test_unconfirmed_sign_ups_are_purged_after_seven_days(client, app):
    from feedback.subscriptions.tasks import purge_unconfirmed

    _subscribe(client, email="old@example.org")
    _subscribe(client, email="recent@example.org")
    old = db.session.scalar(select(Subscriber).where(Subscriber.email == "old@example.org"))
    old.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert purge_unconfirmed() == 1
    assert db.session.scalars(select(Subscriber.email)).all() == ["recent@example.org"]
