"""A trust editor's journey in a real browser: they add a dataset and a service to their
catalogue, write, preview and publish an update that uses them and answers a research
priority, answer a question someone asked about it, respond to a priority whose round has
results, and see their organisation's accountability record change.

Only other people's part is set up through services: the round and its shortlist (run by
a colleague), the member who asks the question and the moderator who publishes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from feedback.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.journeys.checks import check_email, check_keyboard, check_page, follow
from tests.browser.journeys.staff_steps import (
    figures,
    form_with,
    mail_to,
    outbox_of,
    sign_in,
)

pytestmark = pytest.mark.browser

TRUST = "Riverside University Hospitals"
EDITOR = "editor@riverside.example.org"
ASKER = "amina@example.org"
PAIN = "How can people in a sickle cell crisis get pain relief faster?"
TRANSITION = "What happens when young people move to adult services?"
TITLE = "Pain relief within 30 minutes for sickle cell crises"
QUESTION = "Does the fast-track also work for children?"


@pytest.fixture
def live_app_config() -> dict:
    return {"LANGUAGES": "en,ur"}


@pytest.fixture
def trust(live_server) -> dict:
    """The trust, its editor, a round a colleague ran that now has results, a member who
    will ask a question, and a platform moderator."""
    from feedback.accounts import services as accounts
    from feedback.accounts.models import PlatformRole
    from feedback.core.models import utcnow
    from feedback.organisations import services as organisations
    from feedback.priorities import services as priorities

    with live_server.app.app_context():
        org = organisations.create_organisation(None, {"kind": "nhs", "name": TRUST,
                                                       "area": "Birmingham"})
        colleague = accounts.create_user("research@riverside.example.org",
                                         display_name="Riverside Research Office")
        editor = accounts.create_user(EDITOR, display_name="Riverside Data Team")
        accounts.add_member(None, org, colleague, "editor")
        accounts.add_member(None, org, editor, "editor")
        accounts.create_user(ASKER, display_name="Golden Baobab 214")
        accounts.create_user("moderator@example.org", PlatformRole.MODERATOR, "Moderator")
        db.session.flush()
        round_ = priorities.create_round(colleague, [org], {
            "title": "Sickle cell research priorities",
            "scope": "What should research about sickle cell look at first?",
            "groups": ["patients", "carers", "community"], "max_choices": 2})
        shortlisted = [priorities.create_priority(colleague, round_, {"title": title})
                       for title in (PAIN, TRANSITION)]
        priorities.publish_shortlist(colleague, round_, [p.id for p in shortlisted])
        priorities.set_phase(colleague, round_, "voting")
        round_.voting_closes_at = utcnow() - timedelta(days=3)
        priorities.set_phase(colleague, round_, "results")
        round_.results_published_at = round_.voting_closes_at  # the results came 3 days ago
        db.session.commit()
        data = {"slug": org.slug, "round": round_.slug}
        db.session.remove()
    return data


def _someone_asks_and_a_moderator_publishes(app, update_slug: str) -> None:
    from sqlalchemy import select

    from feedback.accounts.models import User
    from feedback.updates import questions
    from feedback.updates.services import get_update

    with app.app_context():
        asker = db.session.scalar(select(User).where(User.email == ASKER))
        moderator = db.session.scalar(select(User).where(User.email == "moderator@example.org"))
        question = questions.ask_question(asker, get_update(update_slug), QUESTION)
        questions.moderate_question(moderator, question, approve=True)
        db.session.commit()
        db.session.remove()


def test_a_trust_editor_closes_the_loop(live_server, page, trust):
    from feedback.accountability.services import quarter_of
    from feedback.core.models import utcnow

    page.set_default_timeout(10_000)
    outbox = outbox_of(live_server)
    sign_in(page, live_server, EDITOR)

    # Their organisation's record before.
    page.get_by_role("link", name=TRUST).click()
    expect(page.get_by_role("heading", name=TRUST, level=1)).to_be_visible()
    check_page(page)
    organisation_url = page.url
    page.get_by_test_id("accountability-link").click()
    expect(page.get_by_test_id("figures")).to_be_visible()
    check_page(page)
    accountability_url = page.url
    assert figures(page) == {"updates-published": "0", "priorities": "2",
                             "response-share": "0 (0%)", "questions": "0",
                             "answered-share": "0 (\u2013)"}
    expect(page.get_by_text("No updates published yet.")).to_be_visible()
    expect(page.get_by_text("Nothing promised yet.")).to_be_visible()

    # A dataset and a service for the catalogue.
    page.goto(organisation_url)
    follow(page, page.get_by_role("link", name="Add a dataset"))
    check_page(page)
    check_keyboard(page, form_with(page, "Save"))
    page.get_by_label("Dataset name").fill("Sickle cell emergency attendances")
    page.get_by_label("Custodian organisation").select_option(label=TRUST)
    page.get_by_label("What information it holds").fill(
        "Every visit to our emergency departments by people with sickle cell disease.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Dataset added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Sickle cell emergency attendances")).to_be_visible()
    check_page(page)

    page.goto(organisation_url)
    follow(page, page.get_by_role("link", name="Add a service"))
    check_page(page)
    check_keyboard(page, form_with(page, "Save"))
    page.get_by_label("Service name").fill("Haematology day unit")
    page.get_by_label("Area").fill("Birmingham")
    page.get_by_label("Description").fill("Same-day care for people with blood conditions.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Service added.")).to_be_visible()
    check_page(page)

    # An update: draft, preview, save, publish.
    page.goto(organisation_url)
    follow(page, page.get_by_role("link", name="Your updates and drafts"))
    check_page(page)
    follow(page, page.get_by_role("link", name="Write an update"))
    check_page(page)
    editor_form = form_with(page, "Save draft")
    check_keyboard(page, editor_form)
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Summary").fill(
        "People with sickle cell waited over an hour for pain relief in A&E. "
        "Now they get it within 30 minutes.")
    page.get_by_label("Change to a service").check()
    page.get_by_label("The full story").fill(
        "## What we found\n\nPeople waited **over an hour** on average.")
    page.get_by_label(f"Sickle cell emergency attendances ({TRUST})").check()
    page.get_by_label(f"Haematology day unit ({TRUST})").check()
    # Topics come from the list moderators keep; a new one goes to them as a suggestion.
    page.get_by_label("Suggest a topic that is not on the list (optional)").fill(
        "Sickle cell, Emergency care")
    page.get_by_label("Research priority this answers (optional)").select_option(
        label=f"{PAIN} (Sickle cell research priorities)")
    page.get_by_label("Purpose of the data use").fill("Improving emergency care.")
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_test_id("preview")
    expect(preview).to_contain_text(TITLE)
    expect(preview.locator("h2", has_text="What we found")).to_be_visible()
    expect(page.get_by_test_id("reading-age")).to_contain_text("Estimated reading age")
    assert_accessible(page)  # a POST result: switching language would lose the preview
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_test_id("title")).to_have_text(TITLE)
    check_page(page)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Update published.")).to_be_visible()
    expect(page.get_by_test_id("answers-priority")).to_have_text(PAIN)
    facts = page.locator(".nhsuk-summary-list").first
    expect(facts.get_by_role("link", name="Sickle cell emergency attendances")).to_be_visible()
    expect(facts.get_by_role("link", name="Haematology day unit")).to_be_visible()
    check_page(page)
    update_url = page.url
    update_slug = update_url.rsplit("/", 1)[-1]

    # Someone asks about it, a moderator publishes the question, the editor answers.
    _someone_asks_and_a_moderator_publishes(live_server.app, update_slug)
    page.reload()
    question = page.get_by_test_id("question")
    expect(question).to_contain_text(QUESTION)
    expect(question).to_contain_text("Golden Baobab 214")
    check_page(page)
    check_keyboard(page, form_with(page, "Publish answer"))
    question.get_by_label(f"Answer publicly for {TRUST}").fill(
        "Yes. The children's emergency department uses the same fast-track.")
    question.get_by_role("button", name="Publish answer").click()
    expect(page.get_by_test_id("answer")).to_contain_text("uses the same fast-track")
    check_page(page)
    answered = mail_to(outbox, ASKER)
    assert len(answered) == 1 and "uses the same fast-track" in outbox.text(answered[0])
    check_email(answered[0], "en")

    # A response to the round's priorities.
    page.get_by_test_id("answers-priority").click()
    expect(page.get_by_role("heading", name=PAIN, level=1)).to_be_visible()
    check_page(page)
    follow(page, page.get_by_role("link", name="Publish a response"))
    check_page(page)
    check_keyboard(page, form_with(page, "Publish response"))
    page.get_by_label("Will be researched").check()
    page.get_by_label("What will happen, and why").fill(
        "We will study waiting times for pain relief with the Sickle Cell Support Network "
        "from April, and report back here.")
    page.get_by_role("button", name="Publish response").click()
    expect(page.get_by_test_id("response-status")).to_have_text("Will be researched")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()  # updates that followed
    check_page(page)

    # The record after.
    page.goto(accountability_url)
    expect(page.get_by_test_id("updates-published")).to_have_text("1")
    check_page(page)
    assert figures(page) == {"updates-published": "1", "priorities": "2",
                             "response-share": "1 (50%)", "questions": "1",
                             "answered-share": "1 (100%)"}
    quarters = page.get_by_test_id("quarters")
    expect(quarters.locator("tbody tr")).to_have_count(1)
    year, quarter = quarter_of(utcnow()).split()
    expect(quarters.locator("tbody tr td").nth(1)).to_have_text(f"{quarter} {year}")
    expect(quarters.locator("tbody tr td").nth(2)).to_have_text("1")
    expect(page.get_by_test_id("median-answer")).to_have_text("0 days")
    expect(page.get_by_test_id("median-response")).to_have_text("3 days")
    promised = page.get_by_test_id("promised")
    expect(promised).to_contain_text(PAIN)
    expect(promised.get_by_role("link", name=TITLE)).to_be_visible()
    expect(page.get_by_test_id("datasets")).to_contain_text("Sickle cell emergency attendances")
