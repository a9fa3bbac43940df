"""Every link the site sends out is built from BASE_URL, never from the request's Host
header (issue 13, item 1): a POST with ``Host: attacker.example`` must not put a sign-in
token, or any other link, on the attacker's host. In production another Host gets 400."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from sqlalchemy import select, update

from feedback import create_app
from feedback.core.urls import external_url, trusted_hosts
from feedback.delivery.services import deliver_due
from feedback.extensions import db
from feedback.subscriptions.models import Subscriber, SubscriberStatus

BASE = "https://feedback.example.org/loop"  # a path too: the site is served below the root
ATTACKER = {"Host": "attacker.example"}
LINK = re.compile(r"https?://[^\s\"'<>)]+")


@pytest.fixture
def app_config() -> dict:
    return {"BASE_URL": BASE}


def login(client, user) -> None:
    """Sign ``user`` in with the session cookie kept for the attacker's host."""
    with client.session_transaction(headers=ATTACKER) as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def _parts(message: EmailMessage) -> str:
    """Every header and every text part of ``message``, decoded."""
    texts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            texts.append(part.get_content())
    return "\n".join(texts)


def assert_links_on_base(messages: list[EmailMessage], expect: str) -> None:
    """Nothing mentions the attacker's host, and the link we expect is on BASE_URL."""
    assert messages, "no email was sent"
    links: list[str] = []
    for message in messages:
        text = _parts(message)
        assert "attacker.example" not in text, text
        links += LINK.findall(text)
    ours = [link for link in links if link.startswith(f"{BASE}/")]
    assert any(expect in link for link in ours), links


def test_sign_in_link_uses_base_url_whatever_the_host(client, outbox):
    response = client.post("/sign-in", data={"email": "victim@example.org"}, headers=ATTACKER)
    assert response.status_code == 302
    assert_links_on_base(outbox.messages(), f"{BASE}/sign-in/")


def test_invitation_link_uses_base_url(client, outbox, make_org, make_user):
    org = make_org(name="Riverside Trust")
    login(client, make_user(org=org, org_role="admin"))
    response = client.post(f"/organisations/{org.slug}/members", headers=ATTACKER,
                           data={"email": "new.editor@example.org", "role": "editor"})
    assert response.status_code == 302
    assert_links_on_base(outbox.messages(), f"{BASE}/invitations/")


def test_platform_subscription_confirmation_and_already_subscribed(client, outbox):
    data = {"email": "amina@example.org", "language": "en", "cadence": "weekly"}
    assert client.post("/subscribe", data=data, headers=ATTACKER).status_code == 302
    assert_links_on_base(outbox.messages(), f"{BASE}/subscribe/confirm/")
    db.session.execute(update(Subscriber).values(status=SubscriberStatus.CONFIRMED))
    db.session.commit()
    assert client.post("/subscribe", data=data, headers=ATTACKER).status_code == 302
    assert_links_on_base(outbox.messages()[-1:], f"{BASE}/subscriptions/manage/")


@pytest.fixture
def newsletter(client, make_org, make_user, make_update):
    """A partner newsletter with one confirmed contact and a prepared edition."""
    from feedback.digests import services as digests
    from feedback.subscriptions import services

    org = make_org(kind="vcse", name="Apna Health Forum")
    staff = make_user(org=org, email="staff@apna.example.org")
    make_update()
    login(client, staff)
    audience = services.save_partner_audience(staff, org, {
        "name": "Apna news", "sender_name": "Apna Health Forum", "languages": ["en"],
        "cadence": "weekly", "send_weekday": "0", "send_hour": "9"})
    services.add_contact(staff, audience, {"email": "fatima@example.org",
                                           "attested": True, "basis": "paper form"})
    edition = digests.prepare_next(staff, audience)
    db.session.commit()
    return org, edition.id


def test_partner_subscription_confirmation(client, outbox, newsletter):
    org, _edition_id = newsletter
    response = client.post(f"/partners/{org.slug}/newsletter/contacts", headers=ATTACKER,
                           data={"email": "zara@example.org", "language": "en"})
    assert response.status_code == 302
    assert_links_on_base(outbox.messages(), f"{BASE}/subscribe/confirm/")


def test_newsletter_test_send_and_the_newsletter_itself(app, client, outbox, newsletter):
    _org, edition_id = newsletter
    client.post(f"/newsletter/editions/{edition_id}/test", headers=ATTACKER)
    tests = outbox.messages()
    assert_links_on_base(tests, f"{BASE}/subscribe")
    client.post(f"/newsletter/editions/{edition_id}/send", headers=ATTACKER)
    # Even a worker running inside someone's request (the development server's
    # scheduler) builds links from BASE_URL.
    with app.test_request_context("/", headers=ATTACKER):
        assert deliver_due() == 1
    sent = outbox.messages()[len(tests):]
    assert_links_on_base(sent, f"{BASE}/subscriptions/unsubscribe/")
    assert sent[0]["List-Unsubscribe"].startswith("<https://feedback.example.org/loop/")


def test_platform_digest(app, client, outbox, make_update):
    from feedback.digests import services as digests

    update_ = make_update()
    data = {"email": "amina@example.org", "language": "en", "cadence": "weekly"}
    client.post("/subscribe", data=data, headers=ATTACKER)
    subscriber = db.session.scalar(select(Subscriber))
    subscriber.status = SubscriberStatus.CONFIRMED
    db.session.commit()
    digests.create_and_start(subscriber.audience_id, "2026-W47")
    db.session.commit()
    with app.test_request_context("/", headers=ATTACKER):
        assert deliver_due() == 1
    assert_links_on_base(outbox.messages()[-1:], f"{BASE}/updates/{update_.slug}")


def test_follower_notification(app, client, outbox, make_user, make_update, dataset, editor):
    from feedback.updates import services as updates

    follower = make_user(email="reader@example.org")
    updates.follow(follower, "dataset", dataset.id)
    db.session.commit()
    draft = make_update(publish=False)
    login(client, editor)
    assert client.post(f"/updates/{draft.slug}/publish", headers=ATTACKER).status_code == 302
    with app.test_request_context("/", headers=ATTACKER):
        assert deliver_due() == 1
    assert_links_on_base(outbox.messages(), f"{BASE}/following/stop/")
    assert_links_on_base(outbox.messages(), f"{BASE}/updates/{draft.slug}")


def test_question_answered(client, outbox, make_user, make_update, editor):
    from feedback.updates import questions

    update_ = make_update()
    asker = make_user(email="asker@example.org")
    question = questions.ask_question(asker, update_, "Does this cover children too?")
    questions.moderate_question(editor, question, approve=True)
    db.session.commit()
    login(client, editor)
    response = client.post(f"/questions/{question.id}/answer", headers=ATTACKER,
                           data={"body": "Yes, the children's A&E too."})
    assert response.status_code == 302
    assert_links_on_base(outbox.messages(), f"{BASE}/updates/{update_.slug}#question-")


def test_api_links_use_base_url(client, make_round):
    round_ = make_round(phase="voting")
    body = client.get(f"/api/v1/rounds/{round_.slug}", headers=ATTACKER).get_json()
    text = str(body)
    assert "attacker.example" not in text and f"{BASE}/priorities/rounds/" in text


def test_external_url_keeps_the_base_path_outside_requests(app):
    assert external_url("updates.update", slug="x", _anchor="q 1") == \
        f"{BASE}/updates/x#q%201"
    with app.test_request_context("/", headers=ATTACKER):
        assert external_url("updates.update", slug="x") == f"{BASE}/updates/x"


def test_production_refuses_another_host(tmp_path, app):
    production = create_app({
        "ENV": "production", "SECRET_KEY": "s" * 40, "TESTING": True,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "OUTBOX_DIR": str(tmp_path / "outbox"), "BASE_URL": "https://feedback.example.org",
        "RUN_SCHEDULER": False, "TRUSTED_HOSTS": "health.internal"})
    assert production.config["TRUSTED_HOSTS"] == ["feedback.example.org", "health.internal"]
    client = production.test_client()
    assert client.get("/", headers=ATTACKER).status_code == 400
    assert client.post("/sign-in", data={"email": "victim@example.org"},
                       headers=ATTACKER).status_code == 400
    assert client.get("/", headers={"Host": "feedback.example.org"}).status_code == 200
    assert client.get("/", headers={"Host": "health.internal:8000"}).status_code == 200
    # Now that the page is cached, another Host is still refused, not served it.
    assert client.get("/", headers={"Host": "feedback.example.org"}).status_code == 200
    assert client.get("/", headers=ATTACKER).status_code == 400


def test_development_answers_any_host():
    assert trusted_hosts({"BASE_URL": "http://127.0.0.1:5000", "TRUSTED_HOSTS": ""}) == \
        ["127.0.0.1"]
    assert create_app({"SECRET_KEY": "x", "RUN_SCHEDULER": False}).config[
        "TRUSTED_HOSTS"] is None
