"""Journey 1: a community member, in a real browser.

Amina reads the home page in Urdu (chosen from the language picker) and follows an update
to its dataset and service; subscribes and confirms through the outbox; signs in, votes in
a round, skips the "about you" questions (nothing is stored), changes her ballot (the new
choice is what counts) and this time describes herself; asks a question on the update,
which a moderator publishes and the trust's editor answers, and gets the answer by email;
follows the update's dataset and one of its topics, and gets one email (not two) when the
trust publishes an update that matches both; and unsubscribes in one click from the link
in her digest.

Every page is checked with axe in English and Urdu, every form with the keyboard alone,
and every email for its language, direction, alt text and plain-text part.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_babel import gettext as translate
from playwright.sync_api import expect
from sqlalchemy import func, select

from feedback.extensions import db
from tests.browser.journeys.checks import check_email, check_keyboard, check_page, follow
from tests.conftest import Outbox
from tests.updates.conftest import update_data

pytestmark = pytest.mark.browser

EMAIL = "amina@example.org"
FIRST_CHOICE = "How can people in a sickle cell crisis get pain relief faster?"
CHANGED_CHOICE = "What happens when young people move to adult services?"
QUESTION = "Will the fast-track help children with sickle cell too?"
ANSWER = "Yes. The children's emergency department uses the same fast-track."
MATCHING_TITLE = "Sickle cell pain relief: six months on"


@pytest.fixture
def trust_and_round(live_server):
    """Other people's data: a trust with a published update on a dataset and a service,
    its editor, a platform moderator, and a research round open for voting."""
    from feedback.accounts import services as accounts
    from feedback.accounts.models import PlatformRole
    from feedback.organisations import services as organisations
    from feedback.priorities import services as priorities
    from feedback.updates import services as updates

    with live_server.app.app_context():
        trust = organisations.create_organisation(None, {"kind": "nhs",
                                                         "name": "Riverside Hospitals"})
        dataset = organisations.create_dataset(None, trust, {"name": "Sickle cell attendances"})
        service = organisations.create_service(None, trust, {"name": "Emergency department",
                                                             "area": "Birmingham"})
        editor = accounts.create_user("editor@riverside.example.org",
                                      display_name="Riverside Data Team")
        accounts.add_member(None, trust, editor, "editor")
        accounts.create_user("moderator@example.org", role=PlatformRole.MODERATOR,
                             display_name="Platform Moderator")
        update = updates.create_update(None, trust, update_data(dataset, service))
        updates.publish_update(None, update)
        db.session.flush()
        db.session.refresh(editor)
        round_ = priorities.create_round(editor, [trust], {
            "title": "Sickle cell research priorities",
            "scope": "What should research about sickle cell look at first?",
            "groups": ["patients", "carers", "community"], "max_choices": 1})
        ids = [priorities.create_priority(editor, round_, {"title": title}).id
               for title in (FIRST_CHOICE, CHANGED_CHOICE)]
        priorities.publish_shortlist(editor, round_, ids)
        priorities.set_phase(editor, round_, "voting")
        db.session.commit()
        data = {"update": update.slug, "title": update.title, "dataset": dataset.name,
                "service": service.name, "round": round_.slug, "round_title": round_.title}
        db.session.remove()
    return data


def mail_to(outbox: Outbox, address: str, count: int) -> list:
    """The messages to ``address``, waiting for the ``count``-th (the outbox is written
    as the request finishes)."""
    messages = [m for m in outbox.messages() if m["To"] == address]
    assert len(messages) >= count, f"expected {count} emails to {address}, got {len(messages)}"
    return messages


def link_in(outbox: Outbox, message, path: str) -> str:
    return re.search(rf"http://127\.0\.0\.1:\d+{path}\S+", outbox.text(message)).group(0)


def ui_text(app, language: str, message: str) -> str:
    """An interface string as the compiled catalog gives it in ``language``."""
    with app.test_request_context(), force_locale(language):
        return translate(message)


def test_a_community_member(live_server, page, trust_and_round):
    app = live_server.app
    data = trust_and_round
    outbox = Outbox(Path(app.config["OUTBOX_DIR"]))

    # 1. The home page in Urdu, chosen from the language picker, then the update, its
    # dataset and its service.
    page.goto(live_server("/"))
    check_page(page)
    picker = page.get_by_role("navigation", name="Choose a language")
    picker.locator("summary").click()  # one control: the list opens from it
    picker.get_by_role("link", name="اردو").click()
    expect(page.locator("html")).to_have_attribute("lang", "ur")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        ui_text(app, "ur", "What your patient data led to"))
    urdu_first = ("ur", "en")  # check_page comes back to Urdu
    check_page(page, urdu_first)
    page.get_by_test_id("latest-updates").get_by_role("link", name=data["title"]).click()
    expect(page.get_by_test_id("title")).to_have_text(data["title"])
    check_page(page, urdu_first)
    page.get_by_role("link", name=data["dataset"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(data["dataset"])
    expect(page.locator("html")).to_have_attribute("lang", "ur")
    check_page(page, urdu_first)
    page.get_by_role("main").get_by_role("link", name=data["title"]).click()
    page.get_by_role("link", name=data["service"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(data["service"])
    check_page(page, urdu_first)
    picker = page.get_by_role("navigation", name=ui_text(app, "ur", "Choose a language"))
    picker.locator("summary").click()
    picker.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # 2. Subscribe (digests in Urdu) and confirm through the outbox.
    page.goto(live_server("/"))
    follow(page, page.get_by_role("link", name="Get updates by email"))
    check_page(page)
    form = page.locator("main form")
    check_keyboard(page, form)
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Language", exact=True).select_option("ur")
    page.get_by_label("Weekly").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_page(page)
    confirmation = mail_to(outbox, EMAIL, 1)[-1]
    check_email(confirmation, "en")
    page.goto(link_in(outbox, confirmation, "/subscribe/confirm/"))
    check_page(page)
    check_keyboard(page, page.locator("main form"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()
    check_page(page)

    # 3. Sign in, find the round, vote, skip "about you": nothing is stored.
    follow(page, page.get_by_role("link", name="Sign in"))
    check_page(page)
    check_keyboard(page, page.locator("main form"))
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check_page(page)
    sign_in_mail = mail_to(outbox, EMAIL, 2)[-1]
    check_email(sign_in_mail, "en")
    page.goto(link_in(outbox, sign_in_mail, "/sign-in/"))
    check_page(page)
    check_keyboard(page, page.locator("main form"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your account", exact=True)).to_be_visible()
    check_page(page)

    follow(page, page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Research priorities"))
    check_page(page)
    follow(page, page.get_by_role("link", name=data["round_title"]))
    check_page(page)
    follow(page, page.get_by_role("link", name="Vote online"))
    check_page(page)
    check_keyboard(page, page.locator("main form"))
    page.get_by_label(FIRST_CHOICE).check()
    page.get_by_role("button", name="Send my ballot").click()
    expect(page.get_by_role("heading", name="About you (optional)")).to_be_visible()
    expect(page.get_by_text("Thank you. Your ballot has been recorded.")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Skip these questions").click()
    expect(page.get_by_role("link", name="Vote online")).to_be_visible()
    assert descriptions(app) == [], "skipping the questions stores nothing"

    # 4. Change the ballot; this time describe herself.
    follow(page, page.get_by_role("link", name="Vote online"))
    check_keyboard(page, page.locator("main form"))
    page.get_by_label(FIRST_CHOICE).uncheck()
    page.get_by_label(CHANGED_CHOICE).check()
    page.get_by_role("button", name="Send my ballot").click()
    expect(page.get_by_text("Your ballot has been changed.")).to_be_visible()
    expect(page.get_by_role("heading", name="About you (optional)")).to_be_visible()
    check_keyboard(page, page.locator("main form"))
    page.get_by_label("How would you describe your ethnicity?").fill("British Pakistani")
    page.get_by_label("Pakistani").check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_text("only ever counted with other people's")).to_be_visible()
    check_page(page)
    assert counted_choices(app, data["round"]) == [CHANGED_CHOICE]
    assert descriptions(app) == [("British Pakistani", ["Pakistani"], "")]

    # 5. Ask a question on the update; a moderator publishes it, the editor answers, and
    # the answer comes by email.
    page.goto(live_server(f"/updates/{data['update']}"))
    check_page(page)
    ask = page.locator("form", has=page.get_by_label("Ask a question about this update"))
    check_keyboard(page, ask)
    page.get_by_label("Ask a question about this update").fill(QUESTION)
    page.get_by_role("button", name="Send question").click()
    expect(page.get_by_text("Your question will appear once a moderator")).to_be_visible()
    check_page(page)
    page.goto(live_server("/"))  # she leaves; later the answer comes
    moderate_and_answer(app)
    answered = mail_to(outbox, EMAIL, 3)[-1]
    check_email(answered, "en")
    assert ANSWER in outbox.text(answered)
    page.goto(link_in(outbox, answered, f"/updates/{data['update']}"))
    expect(page.get_by_test_id("answer")).to_contain_text(ANSWER)
    check_page(page)

    # 6. She follows the update's dataset and its "Sickle cell" topic (from the topic's
    # tag); an update matching both brings one email, not two.
    page.goto(live_server(f"/updates/{data['update']}"))
    page.get_by_role("link", name=data["dataset"]).click()
    page.get_by_role("button", name="Follow: email me new updates").click()
    expect(page.get_by_text("You are following this.")).to_be_visible()
    page.goto(live_server(f"/updates/{data['update']}"))
    page.get_by_role("main").get_by_role("link", name="Sickle cell", exact=True).first.click()
    topic = page.get_by_test_id("topic-follow")
    expect(topic).to_contain_text("Sickle cell")
    check_page(page)
    topic.get_by_role("button", name="Follow: email me new updates").click()
    expect(page.get_by_text("You are following this.")).to_be_visible()
    expect(page.get_by_test_id("topic-follow").get_by_role(
        "button", name="Stop following")).to_be_visible()
    page.goto(live_server("/following"))
    expect(page.get_by_role("main")).to_contain_text(data["dataset"])
    expect(page.get_by_role("main")).to_contain_text("Sickle cell")
    publish_matching_update(app)
    about = [m for m in mail_to(outbox, EMAIL, 4) if MATCHING_TITLE in outbox.text(m)]
    assert len(about) == 1, f"{len(about)} emails about one update"
    check_email(about[0], "en")

    # 7. A weekly digest arrives (in Urdu); one click on its link unsubscribes.
    send_digest(app)
    digest = mail_to(outbox, EMAIL, 5)[-1]
    check_email(digest, "ur")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    page.goto(link_in(outbox, digest, "/subscriptions/unsubscribe/"))
    check_page(page)
    check_keyboard(page, page.locator("main form"))
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    check_page(page)
    assert subscription_status(app) == "unsubscribed"


def descriptions(app) -> list[tuple]:
    """What is stored about voters: (own words, options ticked, age band) each."""
    from feedback.priorities.models import VoterDescription

    with app.app_context():
        rows = [(d.ethnicity_text, d.ethnicity_options, d.age_band)
                for d in db.session.scalars(select(VoterDescription))]
        db.session.remove()
    return rows


def counted_choices(app, slug: str) -> list[str]:
    """What the round's ballots hold: one ballot, with the changed choice only."""
    from feedback.priorities.models import Ballot, BallotChoice, Priority, PriorityRound

    with app.app_context():
        round_id = db.session.scalar(select(PriorityRound.id).where(PriorityRound.slug == slug))
        assert db.session.scalar(select(func.count()).select_from(Ballot)
                                 .where(Ballot.round_id == round_id)) == 1
        titles = db.session.scalars(
            select(Priority.title).join(BallotChoice, BallotChoice.priority_id == Priority.id)
            .join(Ballot, Ballot.id == BallotChoice.ballot_id)
            .where(Ballot.round_id == round_id)).all()
        db.session.remove()
    return list(titles)


def moderate_and_answer(app) -> None:
    """The moderator publishes the question and the trust's editor answers it."""
    from feedback.accounts.services import get_user_by_email
    from feedback.updates import questions, tasks
    from feedback.updates.models import Question

    with app.app_context():
        question = db.session.scalar(select(Question))
        questions.moderate_question(get_user_by_email("moderator@example.org"), question, True)
        questions.answer_question(get_user_by_email("editor@riverside.example.org"), question,
                                  ANSWER)
        db.session.commit()
        tasks.notify_asker(question.id)
        db.session.remove()


def publish_matching_update(app) -> None:
    """The trust publishes an update on the followed dataset with the followed topic; the
    delivery worker sends what was queued: one email to Amina."""
    from feedback.delivery.services import deliver_due
    from feedback.organisations.models import Dataset, Organisation
    from feedback.updates import services as updates

    with app.app_context():
        trust = db.session.scalar(select(Organisation).where(
            Organisation.name == "Riverside Hospitals"))
        dataset = db.session.scalar(select(Dataset).where(Dataset.organisation_id == trust.id))
        update = updates.create_update(None, trust, update_data(
            dataset, title=MATCHING_TITLE, topics=["Sickle cell"]))
        updates.publish_update(None, update)
        db.session.commit()
        assert deliver_due() == 1
        db.session.remove()


def send_digest(app) -> None:
    from feedback.delivery.services import deliver_due
    from feedback.digests.tasks import create_due_editions
    from feedback.subscriptions.models import Audience

    with app.app_context():
        audience = db.session.scalar(select(Audience))
        audience.send_weekday, audience.send_hour = 0, 0  # due now
        db.session.commit()
        assert len(create_due_editions()) == 1
        assert deliver_due() == 1
        db.session.remove()


def subscription_status(app) -> str:
    from feedback.subscriptions.models import Subscriber

    with app.app_context():
        status = db.session.scalar(select(Subscriber.status).where(Subscriber.email == EMAIL))
        db.session.remove()
    return str(status)
