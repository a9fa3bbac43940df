"""A VCSE partner's journey in a real browser: they import contacts (one bad row is
reported by line), review an Urdu machine translation, enter a paper ballot that
disagrees with a colleague's entry, preview, test-send and schedule their newsletter,
watch the edition go out to the end, and print an Urdu leaflet.

Other people's part is set up through services: the trust's published update and the
round it runs with the partner, the colleague's first paper entry, and the scheduled jobs
(the translation job against a loopback LibreTranslate, the scheduler that starts due
editions, and the delivery worker)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from feedback.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.journeys.checks import (
    check_email,
    check_keyboard,
    check_page,
    follow,
    settle,
)
from tests.browser.journeys.staff_steps import form_with, mail_to, outbox_of, sign_in
from tests.translation.provider_servers import LibreTranslateHandler, serve

pytestmark = pytest.mark.browser

PARTNER = "Apna Health Forum"
STAFF = "staff@apna.example.org"
TITLE = "Faster pain relief for sickle cell crises in A&E"
SUMMARY = "People with sickle cell now get pain relief within 30 minutes of arriving."
URDU_TITLE = "ایمرجنسی میں سکل سیل کے درد سے جلد آرام"
PAIN = "How can people in a sickle cell crisis get pain relief faster?"
TRANSITION = "What happens when young people move to adult services?"
CONTACTS = ("email,name,language\n"
            "fatima@example.org,Fatima,ur\n"
            "yusuf@example.org,Yusuf,ur\n"
            "not-an-email,Broken,en\n"
            "grace@example.org,Grace,en\n"
            "samir@example.org,,ur\n")


@pytest.fixture
def libretranslate():
    with serve(LibreTranslateHandler, key="libre-key") as server:
        yield server


@pytest.fixture
def live_app_config(libretranslate) -> dict:
    return {"LANGUAGES": "en,ur", "LIBRETRANSLATE_URL": libretranslate.url,
            "LIBRETRANSLATE_API_KEY": "libre-key", "DELIVERY_BATCH_SIZE": 2}


def _riverside_and_apna():
    """The trust with its organiser, and Apna with its staff member (an admin) and a
    volunteer (an editor)."""
    from feedback.accounts import services as accounts
    from feedback.organisations import services as organisations

    trust = organisations.create_organisation(None, {"kind": "nhs",
                                                     "name": "Riverside Hospitals"})
    org = organisations.create_organisation(None, {"kind": "vcse", "name": PARTNER})
    trust_editor = accounts.create_user("editor@riverside.example.org")
    staff = accounts.create_user(STAFF, display_name="Apna Staff")
    volunteer = accounts.create_user("volunteer@apna.example.org",
                                     display_name="Apna Volunteer")
    accounts.add_member(None, trust, trust_editor, "editor")
    accounts.add_member(None, org, staff, "admin")
    accounts.add_member(None, org, volunteer, "editor")
    return trust, org, trust_editor, staff, volunteer


def _voting_round(organiser, organisations):
    """The sickle cell round, started by ``organiser``, with a shortlist, open to vote."""
    from feedback.priorities import services as priorities

    round_ = priorities.create_round(organiser, organisations, {
        "title": "Sickle cell research priorities",
        "scope": "What should research about sickle cell look at first?",
        "groups": ["patients", "carers", "community"], "max_choices": 1})
    shortlisted = [priorities.create_priority(organiser, round_, {"title": title})
                   for title in (PAIN, TRANSITION)]
    priorities.publish_shortlist(organiser, round_, [p.id for p in shortlisted])
    priorities.set_phase(organiser, round_, "voting")
    return round_, shortlisted


@pytest.fixture
def partner(live_server, libretranslate) -> dict:
    """A trust that published an update and runs a round with the partner, with its Urdu
    translator; the partner's staff member (an admin) and a volunteer; then the
    translation job drafts Urdu through the loopback LibreTranslate."""
    from feedback.accounts import services as accounts
    from feedback.organisations import services as organisations
    from feedback.priorities import services as priorities
    from feedback.translation import services as translation
    from feedback.translation.tasks import translate_pending
    from feedback.updates import services as updates
    from tests.updates.conftest import update_data

    with live_server.app.app_context():
        trust, org, trust_editor, staff, volunteer = _riverside_and_apna()
        db.session.flush()
        # Translators check their own organisation's content: the trust's editor is its
        # Urdu translator, and checks the update the newsletter carries.
        trust_admin = accounts.create_user("admin@riverside.example.org")
        accounts.add_member(None, trust, trust_admin, "admin")
        translation.grant_translator(trust_admin, trust, trust_editor, ["ur"])

        dataset = organisations.create_dataset(None, trust, {"name": "Sickle cell data"})
        update = updates.create_update(None, trust, update_data(
            dataset, title=TITLE, summary=SUMMARY))
        updates.publish_update(None, update)

        round_, shortlisted = _voting_round(trust_editor, [trust, org])
        for invitation in priorities.round_invitations(round_):  # Apna agrees to run it
            priorities.decide_invitation(staff, invitation, accept=True)
        # The volunteer typed in paper ballot P-0001 first.
        priorities.enter_paper_ballot(volunteer, round_, {
            "reference": "P-0001", "location": "Apna community centre",
            "filled_in_on": "2026-03-01", "choices": [shortlisted[0].id]})
        db.session.commit()
        data = {"slug": org.slug, "update": update.slug, "round_id": round_.id}
        db.session.remove()

        report = translate_pending()
        db.session.remove()
    assert report["translated"] > 0 and libretranslate.counter.calls > 0
    return data


def _run(app, job):
    with app.app_context():
        try:
            return job()
        finally:
            db.session.remove()


def test_a_vcse_partner_runs_their_newsletter(live_server, page, partner, tmp_path):
    """Contacts, an Urdu translation, the newsletter from preview to the last message,
    and a leaflet that uses the checked translation."""
    from feedback.core.models import utcnow
    from feedback.delivery.services import Worker
    from feedback.digests.tasks import create_due_editions

    app = live_server.app
    page.set_default_timeout(10_000)
    outbox = outbox_of(live_server)
    sign_in(page, live_server, STAFF)

    # Newsletter settings, then contacts from a CSV with one bad row.
    follow(page, page.get_by_role("link", name=PARTNER))
    check_page(page)
    follow(page, page.get_by_role("link", name="Your newsletter"))
    check_page(page)
    newsletter_url = page.url
    check_keyboard(page, form_with(page, "Save settings"))
    page.get_by_label("Newsletter name").fill("Apna health news")
    page.get_by_label("Urdu", exact=True).check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Newsletter settings saved.")).to_be_visible()
    check_page(page)
    check_keyboard(page, form_with(page, "Import"))
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(CONTACTS, encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(contacts))
    page.get_by_label("Everyone in this file has already agreed").check()
    page.locator("#import-basis").fill("Paper forms at our June health day")
    page.get_by_role("button", name="Import").click()
    # The import job saves the contacts; the progress page follows it and then reloads
    # itself with the report (no reloading by hand).
    expect(page.get_by_role("progressbar")).to_be_visible()
    with app.app_context():
        from feedback.subscriptions.tasks import run_contact_imports

        assert run_contact_imports() == 1
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("4 contacts added, 0 already on your list.")
    rows = report.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.locator("td").first).to_have_text("4")  # the line of the bad row
    expect(rows.locator("td").nth(1)).to_contain_text("email")
    assert_accessible(page)

    # The Urdu machine translation, drafted by LibreTranslate: the trust's translator edits
    # one and approves another (translators check their own organisation's content).
    _sign_in_by_link(page, live_server, "editor@riverside.example.org")
    follow(page, page.get_by_role("link", name="Languages", exact=True))
    check_page(page)
    follow(page, page.get_by_role("link", name="Review translations"))
    check_page(page)
    page.get_by_role("link", name="(Urdu)").click()
    expect(page.get_by_role("heading", name="Review translations: Urdu")).to_be_visible()
    check_page(page)
    title = page.locator(".app-review-item").filter(
        has=page.locator(".app-review-source", has_text=TITLE))
    expect(title.locator(".app-review-source")).to_have_text(TITLE)
    expect(title.get_by_label("Translation")).to_have_value(f"[ur] {TITLE}")
    expect(title.locator(".app-review-source")).to_have_attribute("lang", "en")
    expect(title.get_by_label("Translation")).to_have_attribute("dir", "rtl")
    expect(title).to_contain_text("libretranslate")
    side_by_side = title.locator(".app-side-by-side > *")
    source_box, draft_box = side_by_side.nth(0).bounding_box(), side_by_side.nth(1).bounding_box()
    assert abs(source_box["y"] - draft_box["y"]) < 5, "source and draft are not side by side"
    check_keyboard(page, title.locator("form"))
    title.get_by_label("Translation").fill(URDU_TITLE)
    title.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Translation approved.")).to_be_visible()
    summary = page.locator(".app-review-item").filter(
        has=page.locator(".app-review-source", has_text=SUMMARY))
    expect(summary.get_by_label("Translation")).to_have_value(f"[ur] {SUMMARY}")
    summary.get_by_role("button", name="Approve").click()
    expect(page.locator(".app-review-source", has_text=SUMMARY)).to_have_count(0)
    expect(page.locator(".app-review-source", has_text=TITLE)).to_have_count(0)
    check_page(page)

    # Preview the next edition in both languages and send a test.
    _sign_in_by_link(page, live_server, STAFF)
    page.goto(newsletter_url)
    page.get_by_role("button", name="Prepare the next edition").click()
    expect(page.locator("iframe.app-preview-frame")).to_have_count(2)
    check_page(page)
    frames = page.frame_locator("iframe.app-preview-frame")
    expect(frames.first.get_by_text(TITLE)).to_be_visible()
    expect(frames.last.get_by_text(URDU_TITLE)).to_be_visible()
    preview_url = page.url
    for language in ("en", "ur"):
        page.goto(f"{preview_url}/{language}/email.html")
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert_accessible(page)
    page.goto(preview_url)
    page.get_by_role("button", name="Send me a test").click()
    expect(page.get_by_text(f"Test sent to {STAFF}.")).to_be_visible()
    tests = mail_to(outbox, STAFF, "[Test]")
    assert sorted(m["Content-Language"] for m in tests) == ["en", "ur"]
    for message in tests:
        check_email(message, message["Content-Language"])
    urdu_test = next(m for m in tests if m["Content-Language"] == "ur")
    assert URDU_TITLE in outbox.text(urdu_test)

    # Schedule it: weekly, on today's day in the UK, from midnight UK time (so it is due).
    from feedback.core.uktime import to_uk

    today = to_uk(utcnow())
    page.goto(newsletter_url)
    check_page(page)
    check_keyboard(page, form_with(page, "Save settings"))
    page.get_by_label("Weekly", exact=True).check()
    page.get_by_label("Day (weekly newsletters)").select_option(
        label=today.strftime("%A"))
    page.get_by_label("Time (UK time)").select_option("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Newsletter settings saved.")).to_be_visible()

    # The scheduler starts it, and delivery workers send it two at a time while the
    # partner watches the edition's progress bar.
    assert len(_run(app, create_due_editions)) == 1
    page.get_by_role("link", name=today.strftime("%G-W%V")).click()
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_accessible_name("Sending: 0 of 4 sent.")
    expect(bar).to_have_attribute("max", "4")
    expect(bar).to_have_attribute("value", "0")
    check_page(page)
    # No reloading from here: the page fetches its own progress while it is sending.
    status = page.get_by_role("status").filter(has_text="Sending:")
    for sent in (2, 4):
        assert _run(app, lambda: Worker().run_batch()) == 2
        expect(bar).to_have_attribute("value", str(sent), timeout=10_000)
        expect(status).to_have_text(f"Sending: {sent} of 4 sent.")
        expect(bar).to_have_accessible_name(f"Sending: {sent} of 4 sent.")
    expect(page.get_by_test_id("edition-status")).to_have_text("Sent")
    expect(page.get_by_test_id("sending")).not_to_have_attribute("data-refresh-seconds", "2")
    check_page(page)
    delivered = mail_to(outbox, "fatima@example.org")
    assert len(delivered) == 1 and delivered[0]["Content-Language"] == "ur"
    check_email(delivered[0], "ur")

    # An Urdu leaflet of the update for the noticeboard.
    page.goto(live_server(f"/updates/{partner['update']}"))
    check_page(page)
    page.get_by_test_id("leaflet-link").click()
    expect(page.get_by_test_id("leaflet-title")).to_have_text(TITLE)
    check_page(page)
    page.get_by_label("Language of the leaflet").select_option("ur")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**lang=ur")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert_accessible(page)
    page.emulate_media(media="print")
    leaflet = page.get_by_test_id("leaflet")
    expect(leaflet.get_by_test_id("leaflet-title")).to_have_text(URDU_TITLE)
    expect(leaflet).to_contain_text(f"[ur] {SUMMARY}")
    # Content nobody translates (dataset names) is marked as English in the Urdu leaflet.
    expect(leaflet.locator("dd [lang]", has_text="Sickle cell data")).to_have_attribute(
        "lang", "en")
    for code in ("qr-page", "qr-subscribe"):
        image = page.get_by_test_id(code).locator("img")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator(".app-leaflet-tools")).not_to_be_visible()
    page.emulate_media(media="screen")


def _enter_paper(page, reference: str, where: str, when: str, choice: str) -> None:
    """Type one paper ballot into the paper ballot page's form and save it."""
    page.get_by_label("Reference number printed on the paper").fill(reference)
    page.get_by_label("Where it was filled in").fill(where)
    page.get_by_label("Date it was filled in").fill(when)
    page.get_by_label(choice).check()
    page.get_by_role("button", name="Save this entry").click()


def test_a_vcse_partner_enters_a_paper_ballot_that_disagrees(live_server, page, partner):
    """A paper ballot a volunteer typed in first: the partner's entry differs, so it is
    flagged and not counted."""
    from feedback.priorities.models import Ballot

    page.set_default_timeout(10_000)
    sign_in(page, live_server, STAFF)
    follow(page, page.get_by_role("link", name="Research priorities").first)
    check_page(page)
    follow(page, page.get_by_role("link", name="Sickle cell research priorities"))
    check_page(page)
    follow(page, page.get_by_role("link", name="Manage this round"))
    check_page(page)
    follow(page, page.get_by_role("link", name="Enter or check paper ballots"))
    check_page(page)
    check_keyboard(page, form_with(page, "Save this entry"))
    _enter_paper(page, "P-0001", "Apna community centre", "2026-03-01", TRANSITION)
    expect(page.get_by_text("Paper ballot P-0001: The two entries differ.")).to_be_visible()
    flagged = page.get_by_test_id("paper-ballots").locator("tbody tr")
    expect(flagged).to_have_count(1)
    expect(flagged).to_have_class("app-row-flagged")
    expect(flagged).to_contain_text("Apna Volunteer")
    expect(flagged).to_contain_text("Apna Staff")
    expect(flagged.locator(".nhsuk-tag")).to_have_text("The two entries differ")
    check_page(page)
    assert _run(live_server.app, lambda: db.session.scalar(select(func.count(Ballot.id)).where(
        Ballot.round_id == partner["round_id"]))) == 0, "a mismatched paper was counted"


WORKSPACE_CONTACTS = ("email,name,language\n"
                      "amina@example.org,Amina,ur\n"
                      "yusuf@example.org,Yusuf,en\n"
                      "zara@example.org,=HYPERLINK(\"http://x\"),en\n")


def test_a_vcse_partner_runs_a_second_audience(live_server, page, tmp_path):
    """A partner with one newsletter creates a second audience, imports contacts into
    it, finds one and removes them (recorded in their consent history), exports the
    list as formula-safe CSV, and schedules the newsletter in UK time."""
    import csv
    from datetime import UTC, datetime

    from feedback.accounts import services as accounts
    from feedback.digests.services import current_period
    from feedback.organisations import services as organisations
    from feedback.subscriptions import services as subscriptions
    from feedback.subscriptions.models import Audience
    from feedback.subscriptions.tasks import run_contact_imports

    app = live_server.app
    with app.app_context():
        org = organisations.create_organisation(None, {"kind": "vcse", "name": PARTNER})
        staff = accounts.create_user(STAFF, display_name="Apna Staff")
        accounts.add_member(None, org, staff, "admin")
        subscriptions.save_partner_audience(staff, org, {"name": "Apna health news",
                                                         "languages": ["en", "ur"]})
        db.session.commit()
        slug = org.slug
        db.session.remove()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, STAFF)

    # A second audience.
    page.goto(live_server(f"/partners/{slug}/audiences"))
    check_page(page)
    page.get_by_label("Audience name").fill("Youth, English")
    page.get_by_role("button", name="Create audience").click()
    expect(page.get_by_text("Audience “Youth, English” created.")).to_be_visible()
    expect(page.get_by_test_id("audience-name")).to_have_text("Youth, English")
    audience_url = page.url

    # Contacts from a CSV, saved by the import job.
    contacts = tmp_path / "youth.csv"
    contacts.write_text(WORKSPACE_CONTACTS, encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(contacts))
    page.get_by_label("Everyone in this file has already agreed").check()
    page.locator("#import-basis").fill("Sign-up sheet at the youth club")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("progressbar")).to_be_visible()
    assert _run(app, run_contact_imports) == 1
    expect(page.get_by_test_id("import-report")).to_contain_text("3 contacts added")
    page.get_by_role("link", name="See the contacts on “Youth, English”").click()

    # Find Yusuf and remove him, on a phone-sized screen.
    page.set_viewport_size({"width": 320, "height": 800})
    check_page(page)
    settle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_label("Search by name or email address").fill("yusuf")
    page.get_by_role("button", name="Search").click()
    rows = page.get_by_test_id("contacts").locator("tbody tr")
    expect(rows).to_have_count(1)
    follow(page, rows.get_by_role("link", name="Yusuf"))
    check_page(page)
    history = page.get_by_test_id("consent-history")
    expect(history).to_contain_text("Agreement recorded by your staff")
    expect(history).to_contain_text("Sign-up sheet at the youth club")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove contact").click()
    expect(page.get_by_text("Contact removed.")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 800})

    # Export the list: every contact, the formula neutralised.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export as CSV").click()
    with open(download_info.value.path(), encoding="utf-8") as exported:
        rows_out = list(csv.reader(exported))
    assert [row[0] for row in rows_out[1:]] == ["amina@example.org", "yusuf@example.org",
                                                "zara@example.org"]
    assert rows_out[3][1] == "\'=HYPERLINK(\"http://x\")"
    assert rows_out[2][3] == "unsubscribed"

    # Schedule: Mondays at 09:00 UK time.
    page.goto(audience_url)
    page.get_by_label("Day (weekly newsletters)").select_option(label="Monday")
    page.get_by_label("Time (UK time)").select_option(label="09:00")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Newsletter settings saved.")).to_be_visible()
    expect(page.get_by_test_id("next-send")).to_contain_text("Monday")
    expect(page.get_by_test_id("next-send")).to_contain_text("09:00")

    def stored():
        audience = db.session.scalar(select(Audience).where(Audience.name == "Youth, English"))
        return (audience.send_weekday, audience.send_hour,
                current_period(audience, datetime(2026, 7, 1, 12, tzinfo=UTC))[1],
                current_period(audience, datetime(2026, 12, 2, 12, tzinfo=UTC))[1])

    weekday, hour, summer, winter = _run(app, stored)
    assert (weekday, hour) == (0, 9)
    # 09:00 on the clock in the UK: 08:00 UTC in British Summer Time, 09:00 UTC in winter.
    assert summer == datetime(2026, 6, 29, 8, tzinfo=UTC)
    assert winter == datetime(2026, 11, 30, 9, tzinfo=UTC)
@pytest.fixture
def round_to_help(live_server) -> dict:
    """A round the trust runs alone, open for voting; Apna does not run it. Apna's
    volunteer and a trust organiser are the other people in the journey."""
    with live_server.app.app_context():
        trust, _org, trust_editor, _staff, volunteer = _riverside_and_apna()
        round_, shortlisted = _voting_round(trust_editor, [trust])
        db.session.commit()
        data = {"round_id": round_.id, "slug": round_.slug, "pain": shortlisted[0].id,
                "volunteer_id": volunteer.id}
        db.session.remove()
    return data


def _sign_in_by_link(page, live_server, email: str) -> None:
    """The emailed-link sign-in, without the page checks ``sign_in`` already runs for
    every journey (so that switching person stays quick)."""
    import re

    from tests.conftest import Outbox

    page.context.clear_cookies()
    outbox = outbox_of(live_server)
    before = len(mail_to(outbox, email))
    page.goto(live_server("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    messages = mail_to(outbox, email)
    assert len(messages) == before + 1, "no sign-in email arrived"
    page.goto(re.search(r"https?://\S+/sign-in/\S+", Outbox.text(messages[-1])).group(0))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account")


def _fits(page, width: int = 320) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    settle(page)  # style sheets loaded and the header laid out at this width
    wide = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 5)
        .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)
        """, width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, \
        f"{page.url} is wider than {width} px: {wide}"
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_partner_asks_to_help_with_a_round_and_enters_paper_ballots(live_server, page,
                                                                      round_to_help):
    """Apna does not run the round, so it offers to help; the trust's organiser accepts;
    Apna's staff then type in a paper ballot their volunteer entered first, and it is
    counted once both entries agree. Every step is in both organisations' audit logs."""
    from feedback.audit.models import AuditEvent
    from feedback.priorities import services as priorities
    from feedback.priorities.models import Ballot, PriorityRound

    page.set_default_timeout(10_000)
    round_url = live_server(f"/priorities/rounds/{round_to_help['slug']}")
    _sign_in_by_link(page, live_server, STAFF)
    assert page.goto(f"{round_url}/paper").status == 403  # Apna's 403 in the issue

    # Apna offers to help, from the round page.
    page.goto(round_url)
    page.get_by_text("Offer to help with paper ballots").click()
    _fits(page)
    check_page(page)
    page.get_by_text("Offer to help with paper ballots").click()
    check_keyboard(page, form_with(page, "Offer to help"))
    page.get_by_label("How you could help (optional)").fill(
        "We run a coffee morning every Tuesday and can collect ballots there.")
    page.get_by_role("button", name="Offer to help", exact=True).click()
    expect(page.get_by_text("The round's organisers will accept or decline your offer.")
           ).to_be_visible()
    expect(page.get_by_test_id("offer-help")).to_have_count(0)

    # The trust's organiser accepts it on the manage page.
    _sign_in_by_link(page, live_server, "editor@riverside.example.org")
    page.goto(f"{round_url}/manage")
    offers = page.get_by_test_id("help-requests")
    expect(offers).to_contain_text(PARTNER)
    expect(offers).to_contain_text("coffee morning every Tuesday")
    _fits(page)
    check_page(page)
    offers.get_by_role("button", name="Accept").click()
    expect(page.get_by_text(f"{PARTNER} can now enter paper ballots for this round.")
           ).to_be_visible()
    expect(offers).to_contain_text("accepted")

    # Apna's volunteer typed in P-0002 first (set up here); Apna's staff check it.
    def volunteer_enters():
        from feedback.accounts.models import User

        round_ = db.session.get(PriorityRound, round_to_help["round_id"])
        priorities.enter_paper_ballot(db.session.get(User, round_to_help["volunteer_id"]),
                                      round_, {"reference": "P-0002",
                                               "location": "Apna coffee morning",
                                               "filled_in_on": "2026-03-03",
                                               "choices": [round_to_help["pain"]]})
        db.session.commit()

    _run(live_server.app, volunteer_enters)
    _sign_in_by_link(page, live_server, STAFF)
    page.goto(round_url)
    expect(page.get_by_test_id("round-helpers")).to_have_text(
        f"Paper ballots collected with help from {PARTNER}")
    expect(page.get_by_role("link", name="Manage this round")).to_have_count(0)
    follow(page, page.get_by_test_id("enter-papers"))
    _fits(page)
    check_page(page)
    _enter_paper(page, "P-0002", "Apna coffee morning", "2026-03-03", PAIN)
    expect(page.get_by_text("Paper ballot P-0002: Checked and counted.")).to_be_visible()
    assert page.goto(f"{round_url}/manage").status == 403  # paper ballots only

    def counted_and_audited():
        ballots = db.session.scalar(select(func.count(Ballot.id)).where(
            Ballot.round_id == round_to_help["round_id"]))
        actions = set(db.session.execute(select(AuditEvent.action,
                                                AuditEvent.organisation_id)).all())
        return ballots, actions

    ballots, actions = _run(live_server.app, counted_and_audited)
    assert ballots == 1
    by_action: dict[str, int] = {}
    for action, _org in actions:
        by_action[action] = by_action.get(action, 0) + 1
    assert by_action["priority_round.helper_requested"] == 2  # Apna and the trust
    assert by_action["priority_round.helper_accepted"] == 2
