"""Journey 4: a moderator, in a real browser.

A community member reports a question on an update through its "Report this question"
form. The platform moderator finds it in the moderation queue (still shown, with the
reason), removes it and publishes another question that was waiting; the update page
changes to match. The audit log then shows who did what, and when: the report and both
decisions.

Every page is checked with axe in English and Urdu, and every form with the keyboard.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from feedback.extensions import db
from tests.browser.journeys.checks import check_email, check_keyboard, check_page, follow
from tests.conftest import Outbox
from tests.updates.conftest import update_data

pytestmark = pytest.mark.browser

REPORTED = "Which ward is Mrs Khan on? She is my neighbour."
WAITING = "Will the fast-track help children with sickle cell too?"
MODERATOR = "moderator@example.org"
REPORTER = "yusuf@example.org"


@pytest.fixture
def update_with_questions(live_server):
    """Other people's data: a trust's published update with one published question and
    one waiting for moderation, and a platform moderator."""
    from feedback.accounts import services as accounts
    from feedback.accounts.models import PlatformRole
    from feedback.organisations import services as organisations
    from feedback.updates import questions, services

    with live_server.app.app_context():
        trust = organisations.create_organisation(None, {"kind": "nhs",
                                                         "name": "Riverside Hospitals"})
        dataset = organisations.create_dataset(None, trust, {"name": "Sickle cell attendances"})
        editor = accounts.create_user("editor@riverside.example.org",
                                      display_name="Riverside Data Team")
        accounts.add_member(None, trust, editor, "editor")
        accounts.create_user(MODERATOR, role=PlatformRole.MODERATOR,
                             display_name="Platform Moderator")
        asker = accounts.create_user("asker@example.org", display_name="Golden Baobab 214")
        update = services.create_update(None, trust, update_data(dataset))
        services.publish_update(None, update)
        db.session.flush()
        db.session.refresh(editor)
        questions.moderate_question(editor, questions.ask_question(asker, update, REPORTED),
                                    True)
        questions.ask_question(asker, update, WAITING)
        db.session.commit()
        slug = update.slug
        db.session.remove()
    return slug


def sign_in(page, live_server, email: str) -> None:
    """Sign in through the real pages, checking each of them and the email."""
    outbox = Outbox(Path(live_server.app.config["OUTBOX_DIR"]))
    page.goto(live_server("/"))
    follow(page, page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in"))
    check_page(page)
    check_keyboard(page, page.locator("main form"))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_page(page)
    message = [m for m in outbox.messages() if m["To"] == email][-1]
    check_email(message, "en")
    page.goto(re.search(r"http://127\.0\.0\.1:\d+/sign-in/\S+", outbox.text(message)).group(0))
    check_page(page)
    check_keyboard(page, page.locator("main form"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    check_page(page)


def test_a_moderator_handles_a_report_and_reads_the_audit_log(live_server, page,
                                                               update_with_questions):
    update_url = live_server(f"/updates/{update_with_questions}")

    # A community member reports a question that names a patient.
    sign_in(page, live_server, REPORTER)
    reporter_name = page.get_by_test_id("display-name").inner_text()
    page.goto(update_url)
    check_page(page)
    reported = page.get_by_test_id("question").filter(has_text=REPORTED)
    reported.get_by_text("Report this question").click()
    report_form = reported.locator("form", has=page.get_by_label("Why are you reporting this?"))
    check_keyboard(page, report_form)
    report_form.get_by_label("Why are you reporting this?").select_option(
        label="It shares someone's personal information")
    report_form.get_by_role("button", name="Report", exact=True).click()
    expect(page.get_by_text("Thank you for reporting this. A moderator will look at it.")
           ).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in")
           ).to_be_visible()

    # The moderator finds it in the queue, still shown, with the reason given.
    sign_in(page, live_server, MODERATOR)
    follow(page, page.get_by_role("navigation", name="Account").get_by_role("link", name="Admin"))
    check_page(page)
    page.get_by_role("link", name="Questions and answers to moderate").click()
    expect(page.get_by_role("heading", name="Moderation queue")).to_be_visible()
    check_page(page)
    queued = page.get_by_test_id("pending-question")
    expect(queued).to_have_count(2)
    flagged = queued.filter(has_text=REPORTED)
    expect(flagged.get_by_test_id("reported")).to_have_text("Reported, still shown")
    expect(flagged.get_by_test_id("report-reasons")).to_have_text(
        "Reported: It shares someone's personal information")
    remove = flagged.locator("form", has=page.get_by_role("button", name="Remove question"))
    check_keyboard(page, remove)
    remove.get_by_role("button", name="Remove question").click()
    expect(page.get_by_text("Question rejected.")).to_be_visible()
    check_page(page)
    expect(queued).to_have_count(1)
    waiting = queued.filter(has_text=WAITING)
    publish = waiting.locator("form", has=page.get_by_role("button", name="Publish question"))
    check_keyboard(page, publish)
    publish.get_by_role("button", name="Publish question").click()
    expect(page.get_by_text("Question published.")).to_be_visible()
    expect(page.get_by_text("No questions are waiting.")).to_be_visible()

    # The update page: the reported question is gone, the waiting one is shown.
    page.goto(update_url)
    expect(page.get_by_test_id("question")).to_have_count(1)
    expect(page.get_by_test_id("question")).to_contain_text(WAITING)
    check_page(page)

    # The audit log: who did what, and when, newest first.
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    check_page(page)
    rows = page.locator("main tbody tr")
    when = re.compile(r"\d{1,2} \w+ \d{4}")
    published, rejected, reported_row = rows.nth(0), rows.nth(1), rows.nth(2)
    for row, who, what in [
            (published, "Platform Moderator", "question.approved Published a question on"),
            (rejected, "Platform Moderator",
             "question.rejected Rejected a question after reports (personal_information) on"),
            (reported_row, reporter_name,
             "question.reported Reported a question on")]:
        cells = row.locator("td")
        expect(cells.nth(0)).to_have_text(when)
        expect(cells.nth(1)).to_have_text(who)
        expect(cells.nth(2)).to_have_text("Riverside Hospitals")
        expect(cells.nth(3)).to_contain_text(what)
