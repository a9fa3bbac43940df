"""Someone with a mobile phone and no email address, in a real browser: a partner adds
them by their mobile number alone, they confirm from the text message's short link, the
partner previews the edition (with its text message length) and sends it, the contact
gets it as a short text at a local server speaking GOV.UK Notify's API, follows its short
link to the edition in Urdu, then replies STOP through Notify's received-text callback and
gets nothing more.

Each page this journey adds or changes is also looked at 320 px wide in English and
Urdu: nothing wider than the screen, and a screenshot in test-artifacts/sms/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from feedback.extensions import db
from tests.browser.journeys.checks import check_page, settle
from tests.browser.journeys.staff_steps import sign_in
from tests.digest_support import NOTIFY_API_KEY, item, notify_api, use_items  # noqa: F401

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "sms"
STAFF = "staff@apna.example.org"
INBOUND_TOKEN = "inbound-token-journey-0123456789"
HEADLINE = "Saturday diabetes clinic at Riverside"
SHORT_LINK = re.compile(r"https?://\S+?(/s/[a-z0-9]{10})")


@pytest.fixture
def live_app_config(notify_api):  # noqa: F811
    return {"DELIVERY_CHANNEL": "notify", "NOTIFY_API_KEY": NOTIFY_API_KEY,
            "NOTIFY_BASE_URL": notify_api.url, "NOTIFY_EMAIL_TEMPLATE_ID": "template-email",
            "NOTIFY_SMS_TEMPLATE_ID": "template-sms", "NOTIFY_INBOUND_TOKEN": INBOUND_TOKEN,
            "DELIVERY_RETRY_SECONDS": 0}


def _texts(notify_api) -> list[dict]:  # noqa: F811
    return [r["body"] for r in notify_api.requests if r["path"].endswith("/sms")]


def _deliver(app) -> int:
    with app.app_context():
        from feedback.delivery.services import deliver_due

        sent = deliver_due()
        db.session.remove()
    return sent


def _look_at_320(page, name: str) -> None:
    """The current page, 320 px wide, in English and Urdu: nothing overflows; saved."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    here = page.url.split("://", 1)[1].split("/", 1)[1]
    origin = page.url.split("/" + here, 1)[0] if here else page.url.rstrip("/")
    for language in ("en", "ur"):
        page.goto(f"{origin}/language?code={language}&next=/{here}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        settle(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{name} is {width} px wide at 320 px in {language}"
        page.screenshot(path=str(ARTIFACTS / f"{name}-{language}-320.png"), full_page=True)
    page.goto(f"{origin}/language?code=en&next=/{here}")
    page.set_viewport_size(size)


def test_sms_only_contact_gets_the_digest_by_text_and_replies_stop(
        live_server, page, browser, notify_api):  # noqa: F811
    app = live_server.app
    with app.app_context():
        from feedback.accounts import services as accounts
        from feedback.organisations import services as organisations
        from feedback.subscriptions import services as subscriptions

        org = organisations.create_organisation(None, {"kind": "vcse",
                                                       "name": "Apna Health Forum"})
        staff = accounts.create_user(STAFF)
        accounts.add_member(None, org, staff, "editor")
        subscriptions.save_partner_audience(staff, org, {
            "name": "Women's group", "sender_name": "Apna", "languages": ["en", "ur"],
            "cadence": "weekly"})
        db.session.commit()
        slug = org.slug
        db.session.remove()
    use_items(app, [item(1, title=HEADLINE), item(2, title="Longer opening hours")])

    # The partner adds a contact by mobile number alone.
    sign_in(page, live_server, STAFF)
    page.goto(live_server(f"/partners/{slug}/newsletter"))
    check_page(page)
    _look_at_320(page, "newsletter")
    page.get_by_label("Mobile number for text messages (optional)").fill("07911 123456")
    page.locator("#contact-name").fill("Rukhsana")
    page.locator("#contact-language").select_option("ur")
    page.get_by_role("button", name="Add contact").click()
    expect(page.locator(".nhsuk-error-summary")).to_have_count(0)

    # She gets a confirmation text with a short link, and confirms in her own browser.
    assert _deliver(app) == 1
    [confirmation] = _texts(notify_api)
    assert confirmation["phone_number"] == "+447911123456"
    confirm_path = SHORT_LINK.search(confirmation["personalisation"]["body"]).group(1)
    reader = browser.new_context(locale="en-GB").new_page()
    reader.goto(live_server(confirm_path))
    expect(reader.get_by_text("by text message")).to_be_visible()
    check_page(reader)
    _look_at_320(reader, "confirm-by-text")
    reader.get_by_role("button", name="Confirm").click()
    expect(reader.get_by_role("heading", name="You are subscribed")).to_be_visible()

    # The partner previews the edition: the text message and what it costs.
    page.goto(live_server(f"/partners/{slug}/newsletter"))
    page.get_by_role("button", name="Prepare the next edition").click()
    counts = page.get_by_test_id("sms-count")
    expect(counts).to_have_count(2)
    expect(counts.first).to_contain_text("GSM-7")  # English
    expect(counts.last).to_contain_text("UCS-2")  # Urdu
    expect(page.get_by_test_id("sms-preview").first).to_contain_text(HEADLINE)
    # In the Urdu text the headline, not translated yet, is marked as the English it is.
    urdu_headline = page.get_by_test_id("sms-preview").last.get_by_text(HEADLINE)
    expect(urdu_headline).to_have_attribute("lang", "en")
    expect(urdu_headline).to_have_attribute("dir", "ltr")
    check_page(page)
    _look_at_320(page, "preview")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("Sending has started.")).to_be_visible()

    # The digest arrives as a short text: the headline and a short link.
    assert _deliver(app) == 1
    digest = _texts(notify_api)[-1]
    assert digest["phone_number"] == "+447911123456"
    body = digest["personalisation"]["body"]
    assert HEADLINE in body and "Longer opening hours" in body
    read_path, stop_path = SHORT_LINK.findall(body)
    reader.goto(live_server(read_path))
    assert re.search(r"/digests/editions/\d+/ur$", reader.url)
    expect(reader.locator("[lang=ur]").first).to_be_attached()
    expect(reader.get_by_text(HEADLINE)).to_be_visible()

    # The unsubscribe short link shows its page (no change on GET) ...
    reader.goto(live_server(stop_path))
    expect(reader.get_by_role("button", name="Unsubscribe")).to_be_visible()
    _look_at_320(reader, "unsubscribe-by-text")

    # ... but she replies STOP instead, which Notify forwards to us.
    callback = live_server("/subscriptions/notify/inbound")
    message = {"id": "5a1e6b2e-0000-4000-8000-000000000001", "source_number": "447911123456",
               "destination_number": "07700900000", "message": "Stop ",
               "date_received": "2026-12-03 14:00:00.000000"}
    assert requests.post(callback, json=message, timeout=10).status_code == 401
    answer = requests.post(callback, json=message, timeout=10,
                           headers={"Authorization": f"Bearer {INBOUND_TOKEN}"})
    assert answer.json()["data"] == {"unsubscribed": 1}

    # The partner sees it in her consent history, and the next edition sends her nothing.
    page.goto(live_server(f"/partners/{slug}/newsletter"))
    page.get_by_role("link", name="Find, remove, move or export contacts").click()
    page.get_by_role("link", name="Rukhsana").click()
    expect(page.get_by_text("Replied STOP to a text message")).to_be_visible()
    _look_at_320(page, "contact")
    with app.app_context():
        from feedback.digests import services as digests
        from feedback.subscriptions.models import Audience

        audience = db.session.scalar(db.select(Audience).where(Audience.name ==
                                                                "Women's group"))
        digests.create_and_start(audience.id, "2026-W52")
        db.session.commit()
        db.session.remove()
    texts_before = len(_texts(notify_api))
    _deliver(app)
    assert len(_texts(notify_api)) == texts_before


def test_signing_up_with_a_mobile_number_only(live_server, page, notify_api):  # noqa: F811
    page.goto(live_server("/subscribe"))
    check_page(page)
    _look_at_320(page, "subscribe")
    page.get_by_role("button", name="Subscribe").click()  # neither given
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Enter an email address or a mobile number.")
    page.get_by_label("Mobile number for text messages (optional)").fill("07911 123456")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your text messages")).to_be_visible()
    check_page(page)
    _look_at_320(page, "check-text-messages")
    assert _deliver(live_server.app) == 1
    [text] = _texts(notify_api)
    assert text["phone_number"] == "+447911123456"
    assert SHORT_LINK.search(text["personalisation"]["body"])
