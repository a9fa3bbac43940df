"""Steps the staff journeys share: signing in through the emailed link with every page,
form and email checked, and reading the outbox."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.journeys.checks import check_email, check_keyboard, check_page
from tests.conftest import Outbox


def outbox_of(live_server) -> Outbox:
    return Outbox(Path(live_server.app.config["OUTBOX_DIR"]))


def mail_to(outbox: Outbox, email: str, subject_has: str = "") -> list[EmailMessage]:
    return [m for m in outbox.messages()
            if m["To"] == email and subject_has in str(m["Subject"])]


def form_with(page, button: str):
    """The form in the page's main content that has the button named ``button``."""
    return page.locator("#maincontent form").filter(
        has=page.get_by_role("button", name=button, exact=True))


def sign_in(page, live_server, email: str) -> None:
    """Ask for a link, take it from the outbox (checking the email), and use it."""
    outbox = outbox_of(live_server)
    before = len(mail_to(outbox, email))
    page.goto(live_server("/sign-in"))
    check_page(page)
    check_keyboard(page, form_with(page, "Email me a sign-in link"))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_page(page)
    messages = mail_to(outbox, email)
    assert len(messages) == before + 1, "no sign-in email arrived"
    check_email(messages[-1], "en")
    link = re.search(r"https?://\S+/sign-in/\S+", Outbox.text(messages[-1])).group(0)
    page.goto(link)
    check_page(page)
    check_keyboard(page, form_with(page, "Sign in"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("account-name")).to_be_visible()
    page.wait_for_url("**/account")
    check_page(page)


def figures(page) -> dict[str, str]:
    """The accountability summary list, by test id."""
    names = ("updates-published", "priorities", "response-share", "questions",
             "answered-share")
    return {name: page.get_by_test_id(name).inner_text().strip() for name in names}
