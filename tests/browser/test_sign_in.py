"""Sign in through the emailed link, in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import Outbox

pytestmark = pytest.mark.browser


def test_ask_for_a_link_read_it_from_the_outbox_and_sign_in(live_server, page):
    outbox = Outbox(Path(live_server.app.config["OUTBOX_DIR"]))
    page.goto(live_server("/"))
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email address").fill("amina@example.org")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    message = outbox.last()
    assert message["To"] == "amina@example.org"
    link = re.search(r"http://127\.0\.0\.1:\d+/sign-in/\S+", outbox.text(message)).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()

    name = page.get_by_test_id("display-name").inner_text()
    assert name and "@" not in name
    # expect() waits for the header and compares the text with its whitespace normalised
    # (inner_text read once could include the icon's layout whitespace).
    expect(page.get_by_test_id("account-name")).to_have_text(name)

    # The same link a second time says plainly that it has been used.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link has been used")).to_be_visible()
