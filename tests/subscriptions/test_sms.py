"""People who get text messages: a mobile number instead of an email address, double
opt-in by text message, the digest as a short text with short links, and STOP replies
through GOV.UK Notify's received-text callback (at a local server speaking Notify's API)."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from feedback.core.addresses import address_hash
from feedback.core.tokens import hash_token
from feedback.core.validation import ValidationError
from feedback.delivery.services import Worker
from feedback.digests.models import Delivery
from feedback.extensions import db
from feedback.subscriptions import services, sms
from feedback.subscriptions.models import (
    Channel,
    ConsentAction,
    ShortLink,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from tests.digest_support import (
    NOTIFY_API_KEY,
    item,
    make_audience,
    start_edition_now,
    use_items,
)

INBOUND_TOKEN = "inbound-token-0123456789"


@pytest.fixture
def app_config(notify_api):
    return {"DELIVERY_CHANNEL": "notify", "NOTIFY_API_KEY": NOTIFY_API_KEY,
            "NOTIFY_BASE_URL": notify_api.url, "NOTIFY_EMAIL_TEMPLATE_ID": "template-email",
            "NOTIFY_SMS_TEMPLATE_ID": "template-sms", "NOTIFY_INBOUND_TOKEN": INBOUND_TOKEN,
            "DELIVERY_RETRY_SECONDS": 0}


def _texts(notify_api) -> list[dict]:
    return [r["body"] for r in notify_api.requests if r["path"].endswith("/sms")]


def _short_path(text: str) -> str:
    return re.search(r"http://localhost(/s/[a-z0-9]+)", text).group(1)


# Replies --------------------------------------------------------------------------------

@pytest.mark.parametrize("message", ["STOP", "stop", " Stop ", "STOP.", "Stop!", "stop all",
                                     "STOPALL", "Unsubscribe", "UNSUBSCRIBE\n", "end",
                                     "opt-out", "Stop please"])
def test_stop_and_its_variants_are_stop(message):
    assert sms.is_stop(message)


@pytest.mark.parametrize("message", ["", None, "Thanks!", "don't stop", "stop sending me "
                                     "the Urdu ones please but keep English", "STOPPED",
                                     "start"])
def test_other_replies_are_not_stop(message):
    assert not sms.is_stop(message)


@pytest.mark.parametrize(("given", "expected"), [
    ("447911123456", "+447911123456"), ("+447911123456", "+447911123456"),
    ("07911 123456", "+447911123456"), ("not a number", ""), ("", ""),
])
def test_notify_sender_numbers_become_e164(app, given, expected):
    assert sms.inbound_number(given) == expected


# Signing up with a mobile number only ------------------------------------------------

def test_a_mobile_number_alone_will_do_and_one_of_the_two_is_required(app):
    with pytest.raises(ValidationError) as error:
        services.subscribe({"email": "", "phone": "", "language": "en"}, "/subscribe")
    assert error.value.message == "Enter an email address or a mobile number."
    with pytest.raises(ValidationError) as error:
        services.subscribe({"email": "", "phone": "01632 960123", "language": "en"},
                           "/subscribe")  # a landline cannot get texts
    assert error.value.field == "phone"
    services.subscribe({"email": "", "phone": "07911 123456", "language": "bn"}, "/subscribe")
    subscriber = db.session.scalar(select(Subscriber))
    assert subscriber.email is None and subscriber.phone == "+447911123456"
    assert subscriber.sms_only and not subscriber.is_erased
    ledger = services.consent_history(subscriber.id)
    assert [(r.action, r.channel) for r in ledger] == [(ConsentAction.REQUESTED, Channel.SMS)]


def test_without_text_messages_an_email_address_is_still_needed(make_app):
    app = make_app(DELIVERY_CHANNEL="outbox", NOTIFY_SMS_TEMPLATE_ID="")
    with app.app_context(), pytest.raises(ValidationError) as error:
        services.subscribe({"email": "", "phone": "07911123456", "language": "en"},
                           "/subscribe")
    assert error.value.field == "email"


def test_sms_only_double_opt_in_by_text_with_a_short_single_use_link(client, notify_api):
    response = client.post("/subscribe", data={"email": "", "phone": "07911 123456",
                                               "language": "ur", "cadence": "weekly"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/subscribe/check-email?by=text")
    assert "Check your text messages" in client.get(
        "/subscribe/check-email?by=text").get_data(as_text=True)
    assert Worker().run() == 1  # the confirmation goes through the outbox
    [text] = _texts(notify_api)
    assert text["phone_number"] == "+447911123456"
    assert text["reference"].startswith("confirmation-")
    path = _short_path(text["personalisation"]["body"])
    assert len(path) == len("/s/") + sms.CODE_LENGTH  # no address, only the token
    subscriber = db.session.scalar(select(Subscriber))
    assert client.get(path).status_code == 200  # GET changes nothing
    db.session.refresh(subscriber)
    assert subscriber.status == SubscriberStatus.PENDING
    assert client.post(path).status_code == 303
    db.session.refresh(subscriber)
    assert subscriber.status == SubscriberStatus.CONFIRMED
    assert client.post(path).status_code == 410  # works once
    assert [(r.action, r.channel) for r in services.consent_history(subscriber.id)] == [
        (ConsentAction.REQUESTED, Channel.SMS), (ConsentAction.CONFIRMED, Channel.SMS)]


# The digest by text, and STOP --------------------------------------------------------

def _sms_only_reader(audience, phone="+447911123456", language="en") -> Subscriber:
    subscriber = Subscriber(audience=audience, email=None, phone=phone, language=language,
                            status=SubscriberStatus.CONFIRMED)
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


def test_the_digest_goes_as_a_short_text_with_short_links(app, client, notify_api):
    use_items(app, [item(n) for n in range(1, 6)])
    audience = make_audience(languages=["en", "cy"])
    reader = _sms_only_reader(audience, language="cy")
    edition_id = start_edition_now(audience)
    assert Worker().run() == 1
    [text] = _texts(notify_api)
    body = text["personalisation"]["body"]
    assert body.startswith("Test sender:\n- Update 5: shorter waits\n")  # newest first
    assert "Update 3" in body and "Update 2" not in body  # three headlines, then a count
    read, stop = re.findall(r"http://localhost(/s/[a-z0-9]+)", body)
    assert read != stop and "@" not in body
    # Only the codes' hashes are stored, like every other token.
    links = db.session.scalars(select(ShortLink).order_by(ShortLink.id)).all()
    assert sorted(link.code_hash for link in links) == sorted(
        hash_token(path.removeprefix("/s/")) for path in (read, stop))
    stored = db.session.execute(select(ShortLink.__table__)).all()
    assert not any(path.removeprefix("/s/") in str(row) for row in stored
                   for path in (read, stop))
    response = client.get(read)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/digests/editions/{edition_id}/cy")
    assert client.get(stop).status_code == 200
    assert client.post(stop).status_code == 200
    db.session.refresh(reader)
    assert reader.status == SubscriberStatus.UNSUBSCRIBED
    assert services.consent_history(reader.id)[-1].source == "/s"
    assert client.get("/s/aaaaaaaaaa").status_code == 410
    # The next edition's text reuses the reader's unsubscribe row, not a new one each time.
    assert sms.unsubscribe_link(reader.id, reader.created_at).endswith(stop)


def test_a_reused_subscriber_id_gets_a_new_unsubscribe_code(app):
    """A deleted subscriber's id can be given to someone new (SQLite reuses the highest
    id): the codes texted to the first person must not unsubscribe the second."""
    first_audience = make_audience(name="First group")
    first = _sms_only_reader(first_audience)
    reused_id, first_link = first.id, sms.unsubscribe_link(first.id, first.created_at)
    db.session.commit()
    db.session.delete(first_audience)  # its subscribers and short links go with it
    db.session.commit()

    second = Subscriber(id=reused_id, audience=make_audience(name="Second group"), email=None,
                        phone="+447911999888", status=SubscriberStatus.CONFIRMED)
    db.session.add(second)
    db.session.commit()
    second_link = sms.unsubscribe_link(second.id, second.created_at)
    assert second_link != first_link
    old_code = first_link.rsplit("/", 1)[1]
    assert sms.resolve(old_code) is None


def _inbound(client, message, number="447911123456", token=INBOUND_TOKEN):
    return client.post("/subscriptions/notify/inbound", headers={
        "Authorization": f"Bearer {token}"}, json={
        "id": "b1b0f0a8-0000-4000-8000-000000000001", "source_number": number,
        "destination_number": "07700900000", "message": message,
        "date_received": "2026-12-03 13:40:00.000000"})


def test_stop_by_reply_unsubscribes_every_subscription_of_the_number(app, client, notify_api):
    use_items(app, [item(1)])
    first, second = make_audience(name="First"), make_audience(name="Second")
    readers = [_sms_only_reader(first), _sms_only_reader(second)]
    other = _sms_only_reader(first, phone="+447911123999")
    refused = _inbound(client, "STOP", token="wrong")
    assert refused.status_code == 401
    assert refused.get_json()["errors"][0]["status"] == 401  # the API's one envelope
    assert _inbound(client, "Thanks").get_json()["data"] == {"unsubscribed": 0}
    assert _inbound(client, " stop ").get_json()["data"] == {"unsubscribed": 2}
    for reader in readers:
        db.session.refresh(reader)
        assert reader.status == SubscriberStatus.UNSUBSCRIBED
        last = services.consent_history(reader.id)[-1]
        assert (last.action, last.channel, last.source) == (
            ConsentAction.UNSUBSCRIBED, Channel.SMS, "sms:STOP")
    assert db.session.scalar(select(Suppression).where(
        Suppression.address_hash == address_hash("+447911123456")))
    start_edition_now(first)
    Worker().run()
    assert [t["phone_number"] for t in _texts(notify_api)] == [other.phone]
    assert _inbound(client, "STOP").get_json()["data"] == {"unsubscribed": 0}  # safe to repeat


def test_the_callback_is_off_without_a_token(make_app):
    app = make_app(NOTIFY_INBOUND_TOKEN="")
    with app.app_context():
        response = app.test_client().post("/subscriptions/notify/inbound",
                                          headers={"Authorization": "Bearer "}, json={})
    assert response.status_code == 401


# Partner contacts ----------------------------------------------------------------------

def test_partners_add_and_import_contacts_with_a_mobile_number_only(app, make_user, make_org,
                                                                   notify_api):
    org = make_org(kind="vcse", name="Apna Health")
    user = make_user(org=org)
    audience = make_audience(organisation_id=org.id, name="Women's group")
    assert services.add_contact(user, audience, {"email": "", "phone": "07911123456",
                                                 "language": "en", "attested": "y",
                                                 "basis": "Signed a paper form"})
    assert not services.add_contact(user, audience, {"phone": "+44 7911 123456"})
    with pytest.raises(ValidationError):
        services.add_contact(user, audience, {"email": "", "phone": ""})
    job = services.start_import(user, audience, "email,name,language,mobile\n"
                                ",Rukhsana,en,07911123457\n"
                                "amina@example.org,Amina,en,\n"
                                ",Nobody,en,\n"
                                ",Again,en,07911 123457\n", attested=False, basis="")
    assert [line for line, _reason in job.problems] == [4, 5]
    while services.import_next_chunk(job):
        pass
    db.session.commit()
    rukhsana = db.session.scalar(select(Subscriber).where(Subscriber.name == "Rukhsana"))
    assert rukhsana.sms_only and rukhsana.status == SubscriberStatus.PENDING
    assert [(r.action, r.channel) for r in services.consent_history(rukhsana.id)] == [
        (ConsentAction.REQUESTED, Channel.SMS)]
    assert Worker().run() == 2  # one confirmation email, one confirmation text
    [text] = _texts(notify_api)
    assert text["phone_number"] == "+447911123457"
    assert db.session.scalars(select(Delivery.status)).all() == []  # no digest rows


# Signing up again after STOP ------------------------------------------------------------

def _stopped(number="+447911123456"):
    return db.session.scalar(select(Suppression).where(
        Suppression.address_hash == address_hash(number)))


def test_signing_up_again_on_the_form_after_stop_sends_the_text_and_lifts_the_stop(
        app, client, notify_api):
    use_items(app, [item(1)])
    form = {"email": "", "phone": "07911 123456", "language": "en", "cadence": "weekly"}
    client.post("/subscribe", data=form)
    Worker().run()
    client.post(_short_path(_texts(notify_api)[-1]["personalisation"]["body"]))
    assert _inbound(client, "STOP").get_json()["data"] == {"unsubscribed": 1}
    assert _stopped() is not None
    # A fresh sign-up on our form is the person's own request: its text goes.
    assert client.post("/subscribe", data=form).status_code == 302
    assert Worker().run() == 1
    text = _texts(notify_api)[-1]
    assert text["reference"].startswith("confirmation-")
    assert text["phone_number"] == "+447911123456"
    assert _stopped() is not None  # nothing changes until they confirm
    assert client.post(_short_path(text["personalisation"]["body"])).status_code == 303
    assert _stopped() is None
    subscriber = db.session.scalar(select(Subscriber))
    assert subscriber.status == SubscriberStatus.CONFIRMED
    ledger = [(r.action, r.channel, r.source, r.basis)
              for r in services.consent_history(subscriber.id)]
    assert ledger[-4:] == [
        (ConsentAction.UNSUBSCRIBED, Channel.SMS, "sms:STOP", ""),
        (ConsentAction.REQUESTED, Channel.SMS, "/subscribe", ""),
        (ConsentAction.CONFIRMED, Channel.SMS, "/subscribe", ""),
        (ConsentAction.CONFIRMED, Channel.SMS, "/subscribe",
         "Signed up again after replying STOP; the STOP is lifted")]
    start_edition_now(subscriber.audience)
    assert Worker().run() == 1  # the digest goes by text again
    assert _texts(notify_api)[-1]["reference"] != text["reference"]


def test_a_partner_cannot_override_a_stop(app, client, make_user, make_org, notify_api):
    org = make_org(kind="vcse", name="Apna Health")
    user = make_user(org=org)
    audience = make_audience(organisation_id=org.id, name="Women's group")
    _sms_only_reader(make_audience(name="Platform"))
    assert _inbound(client, "STOP").get_json()["data"] == {"unsubscribed": 1}
    for attested in ("", "y"):  # not even "they already agreed"
        with pytest.raises(ValidationError) as error:
            services.add_contact(user, audience, {"email": "", "phone": "07911 123456",
                                                  "attested": attested,
                                                  "basis": "Signed a paper form"})
        assert error.value.field == "phone"
        assert "replied STOP" in error.value.message
    job = services.start_import(user, audience, "email,name,language,mobile\n"
                                ",Rukhsana,en,07911123456\n"
                                "rukhsana@example.org,Rukhsana,en,07911123456\n",
                                attested=True, basis="Signed a paper form")
    assert [line for line, _reason in job.problems] == [2]  # the partner sees why
    assert "replied STOP" in job.problems[0][1]
    while services.import_next_chunk(job):
        pass
    db.session.commit()
    assert job.added == 1  # the email address only
    assert _stopped() is not None
    assert db.session.scalar(select(Subscriber).where(
        Subscriber.audience_id == audience.id)).email == "rukhsana@example.org"


# The partner's preview --------------------------------------------------------------

def test_the_preview_marks_an_untranslated_headline_with_its_own_language(app):
    from feedback.digests import sms as sms_digest
    from feedback.digests.models import Edition

    use_items(app, [item(1)])
    audience = make_audience(languages=["en", "ur"])
    edition = db.session.get(Edition, start_edition_now(audience))
    lines, length = sms_digest.preview(edition, "ur")
    [headline] = [line for line in lines if line.text.startswith("- ")]
    assert (headline.lang, headline.dir) == ("en", "ltr")  # no Urdu translation yet
    assert all(line.lang == "" for line in lines if line is not headline)  # the text's own
    assert length.unicode  # the Urdu lines need UCS-2
    assert "\n".join(line.text for line in lines) == sms_digest.personalise_sms(
        sms_digest.sms_text(edition, "ur", sms_digest.sample_link()), sms_digest.sample_link())


# Rate limits -----------------------------------------------------------------------------

def _visitor() -> str:
    """An address of this test's own: the in-memory limits outlive one app."""
    number = secrets.randbelow(2 ** 16)
    return f"198.18.{number // 256}.{number % 256}"


def test_short_links_are_rate_limited_so_codes_cannot_be_guessed_quickly(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        guesser = {"REMOTE_ADDR": _visitor()}
        statuses = [client.get(f"/s/{sms.new_code()}", environ_base=guesser).status_code
                    for _ in range(31)]
        assert statuses == [410] * 30 + [429]
        assert client.post(f"/s/{sms.new_code()}",
                           environ_base=guesser).status_code == 429  # POST counts too
        # Someone else is not locked out.
        assert client.get("/s/aaaaaaaaaa", environ_base={
            "REMOTE_ADDR": _visitor()}).status_code == 410


def test_the_received_text_callback_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, NOTIFY_INBOUND_TOKEN=INBOUND_TOKEN)
    with app.app_context():
        client = app.test_client()
        caller = {"REMOTE_ADDR": _visitor()}
        statuses = [client.post("/subscriptions/notify/inbound", json={},
                                headers={"Authorization": "Bearer wrong"},
                                environ_base=caller).status_code for _ in range(121)]
        assert statuses == [401] * 120 + [429]
        assert client.post("/subscriptions/notify/inbound", json={"message": "Thanks"},
                           headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
                           environ_base=caller).status_code == 429
        assert client.post("/subscriptions/notify/inbound", json={"message": "Thanks"},
                           headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
                           environ_base={"REMOTE_ADDR": _visitor()}).status_code == 200
