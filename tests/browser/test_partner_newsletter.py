"""A partner imports contacts, previews every language, sends a test, then sends, in a
real browser (the preview frame must not break the CSP)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from feedback.extensions import db
from tests.conftest import Outbox
from tests.digest_support import item, use_items

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, outbox: Outbox, email: str) -> None:
    page.goto(live_server("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    link = re.search(r"http://127\.0\.0\.1:\d+/sign-in/\S+", outbox.text(outbox.last())).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()


def test_import_preview_test_send_and_send(live_server, page, tmp_path):
    app = live_server.app
    outbox = Outbox(Path(app.config["OUTBOX_DIR"]))
    with app.app_context():
        from feedback.accounts import services as accounts
        from feedback.organisations import services as organisations

        org = organisations.create_organisation(None, {"kind": "vcse",
                                                       "name": "Apna Health Forum"})
        staff = accounts.create_user("staff@apna.example.org")
        accounts.add_member(None, org, staff, "editor")
        db.session.commit()
        slug = org.slug
        db.session.remove()
    use_items(app, [item(1, title="Saturday diabetes clinic")])

    _sign_in(page, live_server, outbox, "staff@apna.example.org")
    page.goto(live_server(f"/organisations/{slug}"))
    page.get_by_role("link", name="Your newsletter").click()
    page.get_by_label("Newsletter name").fill("Apna news")
    page.get_by_label("Urdu", exact=True).check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Newsletter settings saved.")).to_be_visible()
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("email,name,language\nfatima@example.org,Fatima,ur\nbroken,,en\n")
    page.get_by_label("CSV file").set_input_files(str(contacts))
    page.get_by_label("Everyone in this file has already agreed").check()
    page.locator("#import-basis").fill("Paper forms at our June health day")
    page.get_by_role("button", name="Import").click()
    # The import job saves the contacts; the progress page then shows the report.
    expect(page.get_by_role("progressbar")).to_be_visible()
    with app.app_context():
        from feedback.subscriptions.tasks import run_contact_imports

        assert run_contact_imports() == 1
        db.session.remove()
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("1 contacts added")
    expect(report.get_by_role("cell").first).to_contain_text("3")  # line 3 is reported

    page.goto(live_server(f"/partners/{slug}/newsletter"))
    page.get_by_role("button", name="Prepare the next edition").click()
    expect(page.get_by_text("Missing translations")).to_be_visible()
    expect(page.locator("iframe.app-preview-frame")).to_have_count(2)
    frame = page.frame_locator("iframe.app-preview-frame").first
    expect(frame.get_by_text("Saturday diabetes clinic")).to_be_visible()
    page.get_by_role("button", name="Send me a test").click()
    expect(page.get_by_text("Test sent to staff@apna.example.org")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Send now").click()
    expect(page.get_by_text("Sending has started.")).to_be_visible()
    with app.app_context():
        from feedback.delivery.services import deliver_due

        assert deliver_due() == 1
        db.session.remove()
    message = outbox.last()
    assert message["To"] == "fatima@example.org" and message["Content-Language"] == "ur"
