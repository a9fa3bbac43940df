"""A research priorities round from suggestion to response in a real browser, with an
online ballot, a ballot-code ballot and a double-entered paper ballot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from feedback.extensions import db
from feedback.priorities.models import Phase
from tests.conftest import Outbox

pytestmark = pytest.mark.browser


@pytest.fixture
def people(live_server):
    """Two organisations running a round, their staff, and a community member."""
    from feedback.accounts import services as accounts
    from feedback.organisations import services as organisations
    from feedback.priorities import services

    with live_server.app.app_context():
        trust = organisations.create_organisation(None, {"kind": "nhs",
                                                         "name": "Riverside Hospitals"})
        partner = organisations.create_organisation(None, {
            "kind": "vcse", "name": "Sickle Cell Support Network"})
        organiser = accounts.create_user("organiser@example.org", display_name="Riverside Team")
        staff = accounts.create_user("staff@example.org", display_name="Network Staff")
        accounts.create_user("amina@example.org", display_name="Golden Baobab 214")
        accounts.add_member(None, trust, organiser, "editor")
        accounts.add_member(None, partner, staff, "admin")
        db.session.flush()
        db.session.refresh(organiser)
        round_ = services.create_round(organiser, [trust, partner], {
            "title": "Sickle cell research priorities",
            "scope": "What should research about sickle cell look at first?",
            "groups": ["patients", "carers", "community"], "max_choices": 2})
        for invitation in services.round_invitations(round_):  # the partner agrees
            services.decide_invitation(staff, invitation, accept=True)
        round_.phase = Phase.SUGGESTIONS
        db.session.commit()
        slug = round_.slug
        db.session.remove()
    return {"slug": slug}


def sign_in(page, live_server, email: str) -> None:
    outbox = Outbox(Path(live_server.app.config["OUTBOX_DIR"]))
    sign_out = page.get_by_role("button", name="Sign out")
    if sign_out.count():
        sign_out.click()
    page.goto(live_server("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    message = next(m for m in reversed(outbox.messages()) if m["To"] == email)
    link = re.search(r"http://127\.0\.0\.1:\d+/sign-in/\S+", outbox.text(message)).group(0)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()


def test_a_round_from_suggestion_to_response(live_server, page, people):
    slug = people["slug"]
    round_url = live_server(f"/priorities/rounds/{slug}")
    outbox = Outbox(Path(live_server.app.config["OUTBOX_DIR"]))

    # A community member suggests a question.
    sign_in(page, live_server, "amina@example.org")
    page.goto(round_url)
    page.get_by_role("link", name="Suggest a question").click()
    page.get_by_label("Your question").fill("Why do people wait so long for pain relief in A&E?")
    page.get_by_label("Why it matters").fill("People in a crisis wait hours in pain.")
    page.get_by_role("button", name="Send my question").click()
    expect(page.get_by_text("Your question will appear once it has been checked")).to_be_visible()
    # The organiser accepts it, words two priorities, publishes the shortlist, opens voting.
    sign_in(page, live_server, "organiser@example.org")
    page.goto(live_server(f"/priorities/rounds/{slug}/manage"))
    page.get_by_text("Decide").click()
    page.get_by_label("Accept it").check()
    page.get_by_role("button", name="Save decision").click()
    page.get_by_label("Priority, as a question").fill(
        "How can people in a sickle cell crisis get pain relief faster?")
    page.get_by_label("Plain-English description").fill("Looks at waiting times in A&E.")
    page.get_by_label("Why do people wait so long for pain relief in A&E?").check()
    page.get_by_role("button", name="Add priority").click()
    page.get_by_label("Priority, as a question").fill(
        "What happens when young people move to adult services?")
    page.get_by_role("button", name="Add priority").click()
    page.get_by_role("button", name="Publish shortlist").click()
    expect(page.get_by_text("Shortlist published.")).to_be_visible()
    page.get_by_label("Move the round to").select_option("voting")
    page.get_by_role("button", name="Move the round").click()
    expect(page.get_by_test_id("phase")).to_have_text("Voting")

    # Ballot codes for people without email, printed from a one-time sheet.
    page.get_by_label("How many codes").fill("2")
    page.get_by_role("button", name="Make codes and show the sheet").click()
    codes = page.get_by_test_id("ballot-code").all_inner_texts()
    assert len(codes) == 2

    # 1. An online ballot, then the optional questions.
    sign_in(page, live_server, "amina@example.org")
    page.goto(round_url)
    page.get_by_role("link", name="Vote online").click()
    page.get_by_label("How can people in a sickle cell crisis get pain relief faster?").check()
    page.get_by_label("What happens when young people move to adult services?").check()
    page.get_by_role("button", name="Send my ballot").click()
    expect(page.get_by_role("heading", name="About you (optional)")).to_be_visible()
    page.get_by_label("How would you describe your ethnicity?").fill("Black British Nigerian")
    page.get_by_label("Nigerian").check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_text("only ever counted with other people's")).to_be_visible()
    # 2. A ballot with a code, signed out; then the same code again.
    page.get_by_role("button", name="Sign out").click()
    page.goto(round_url)
    page.get_by_role("link", name="Vote with a ballot code from a code sheet").click()
    page.get_by_label("Your ballot code").fill(codes[0])
    page.get_by_label("What happens when young people move to adult services?").check()
    page.get_by_role("button", name="Send my ballot").click()
    page.get_by_role("link", name="Skip these questions").click()
    page.goto(live_server(f"/priorities/rounds/{slug}/vote/code"))
    page.get_by_label("Your ballot code").fill(codes[0])
    page.get_by_label("What happens when young people move to adult services?").check()
    page.get_by_role("button", name="Send my ballot").click()
    expect(page.get_by_text("This ballot code has already been used to vote").first).to_be_visible()
    # 3. A paper ballot, typed in by partner staff and checked by a second person.
    def enter_paper():
        page.goto(live_server(f"/priorities/rounds/{slug}/paper"))
        page.get_by_label("Reference number printed on the paper").fill("P-0001")
        page.get_by_label("Where it was filled in").fill("Handsworth community centre")
        page.get_by_label("Date it was filled in").fill("2026-03-01")
        page.get_by_label("How can people in a sickle cell crisis get pain relief "
                          "faster?").check()
        page.get_by_role("button", name="Save this entry").click()

    sign_in(page, live_server, "staff@example.org")
    enter_paper()
    expect(page.get_by_text("Waiting for a second person to check").first).to_be_visible()
    sign_in(page, live_server, "organiser@example.org")
    enter_paper()
    expect(page.get_by_text("Checked and counted").first).to_be_visible()
    # Voting closes: results, then a response that is emailed to followers.
    page.goto(live_server(f"/priorities/rounds/{slug}/manage"))
    page.get_by_label("Move the round to").select_option("results")
    page.get_by_role("button", name="Move the round").click()
    page.goto(live_server(f"/priorities/rounds/{slug}/results"))
    expect(page.get_by_test_id("voters")).to_have_text("*")  # 3 voters: suppressed
    expect(page.locator(".app-chart")).to_have_count(5)
    page.get_by_role("link", name="How can people in a sickle cell crisis get pain relief "
                                   "faster?").click()
    page.get_by_role("link", name="Publish a response").click()
    page.get_by_label("Will be researched").check()
    page.get_by_label("What will happen, and why").fill(
        "Riverside and the Midlands Health Research Partnership will study waiting times "
        "for pain relief from April.")
    page.get_by_role("button", name="Publish response").click()
    expect(page.get_by_test_id("response-status")).to_have_text("Will be researched")
    for step in ("Suggested", "Shortlisted", "Votes", "Response", "Updates that followed"):
        expect(page.get_by_role("heading", name=step, exact=True)).to_be_visible()
    with live_server.app.app_context():  # a delivery worker sends what publishing queued
        from feedback.delivery.services import deliver_due

        assert deliver_due() >= 1
        db.session.remove()
    emailed = [m for m in outbox.messages() if m["To"] == "amina@example.org"
               and "response" in m["Subject"]]
    assert emailed, "the person who suggested the question follows the priority"
