"""Question -> moderation -> answer, in a real browser with CSRF on: a member asks, the
trust's editor approves and answers, and the asker is emailed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from feedback.extensions import db
from tests.conftest import Outbox
from tests.updates.conftest import update_data

pytestmark = pytest.mark.browser


def sign_in(page, live_server, outbox: Outbox, email: str) -> None:
    page.goto(live_server("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    message = next(m for m in reversed(outbox.messages()) if m["To"] == email)
    link = re.search(r"http://127\.0\.0\.1:\d+/sign-in/\S+", outbox.text(message)).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def published(live_server):
    from feedback.accounts import services as accounts
    from feedback.organisations import services as organisations
    from feedback.updates import services

    with live_server.app.app_context():
        trust = organisations.create_organisation(None, {"kind": "nhs",
                                                         "name": "Riverside Hospitals"})
        dataset = organisations.create_dataset(None, trust, {"name": "Sickle cell data"})
        editor = accounts.create_user("editor@riverside.example.org")
        accounts.add_member(None, trust, editor, "editor")
        accounts.create_user("asker@example.org", display_name="Golden Baobab 214")
        update = services.create_update(None, trust, update_data(dataset))
        services.publish_update(None, update)
        db.session.commit()
        slug = update.slug
        db.session.remove()
    return slug


def test_question_moderation_and_answer(live_server, page, published):
    outbox = Outbox(Path(live_server.app.config["OUTBOX_DIR"]))
    sign_in(page, live_server, outbox, "asker@example.org")
    page.goto(live_server(f"/updates/{published}"))
    page.get_by_label("Ask a question about this update").fill(
        "Will this help children with sickle cell too?")
    page.get_by_role("button", name="Send question").click()
    expect(page.get_by_text("Your question will appear once a moderator")).to_be_visible()
    expect(page.get_by_test_id("question")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, outbox, "editor@riverside.example.org")
    page.goto(live_server("/moderation"))
    pending = page.get_by_test_id("pending-question")
    expect(pending).to_contain_text("Will this help children")
    pending.get_by_role("button", name="Publish question").click()
    expect(page.get_by_text("Question published.")).to_be_visible()
    page.goto(live_server(f"/updates/{published}"))
    question = page.get_by_test_id("question")
    expect(question).to_contain_text("Golden Baobab 214")
    question.get_by_label("Answer publicly for Riverside Hospitals").fill(
        "Yes. The children's emergency department uses the same fast-track.")
    question.get_by_role("button", name="Publish answer").click()
    expect(page.get_by_test_id("answer")).to_contain_text("uses the same fast-track")

    message = outbox.last()
    assert message["To"] == "asker@example.org"
    assert "uses the same fast-track" in outbox.text(message)
    assert re.search(rf"http://127\.0\.0\.1:\d+/updates/{published}#question-\d+",
                     outbox.text(message))


def test_the_update_page_prints_with_a_qr_code(live_server, page, published):
    page.goto(live_server(f"/updates/{published}"))
    page.emulate_media(media="print")
    qr = page.locator("img.app-print-qr")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('img.app-print-qr').naturalWidth") > 0
    expect(page.locator(".app-share")).not_to_be_visible()
    expect(page.locator(".nhsuk-header")).not_to_be_visible()
    page.emulate_media(media="screen")
    expect(qr).not_to_be_visible()
