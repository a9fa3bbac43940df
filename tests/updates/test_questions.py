"""Questions wait for moderation; the organisation answers publicly and the asker is
emailed; reports hide an item at the threshold until a moderator reviews it."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from feedback.accounts.permissions import PermissionDenied
from feedback.core.exceptions import NotFound
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.updates import questions
from feedback.updates.models import Question, QuestionStatus, ReportTarget


def test_ask_moderate_answer_and_email_the_asker(client, sign_in_as, make_user, editor,
                                                 make_update, outbox):
    update = make_update()
    asker = make_user(email="asker@example.org", name="Golden Baobab 214")
    sign_in_as(asker)
    response = client.post(f"/updates/{update.slug}/questions",
                           data={"body": "Does this cover children too?"})
    assert response.status_code == 302
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    # The asker sees it waiting; nobody else does until a moderator publishes it.
    own = BeautifulSoup(page, "html.parser").find(attrs={"data-testid": "own-questions"})
    assert own.get_text(" ", strip=True) == ("Waiting for a moderator Does this cover "
                                             "children too?")
    assert "No questions yet." not in page
    sign_in_as(make_user(email="bystander@example.org"))
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert "Does this cover children too?" not in page and "No questions yet." in page

    sign_in_as(editor)
    queue = client.get("/moderation").get_data(as_text=True)
    assert "Does this cover children too?" in queue
    question = db.session.scalars(db.select(Question)).one()
    client.post(f"/moderation/questions/{question.id}", data={"decision": "approve"})
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert "Does this cover children too?" in page and "Golden Baobab 214" in page

    client.post(f"/questions/{question.id}/answer",
                data={"body": "Yes, the children's A&E too."})
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert "Yes, the children&#39;s A&amp;E too." in page
    sign_in_as(asker)
    own = BeautifulSoup(client.get(f"/updates/{update.slug}").get_data(as_text=True),
                        "html.parser").find(attrs={"data-testid": "own-questions"})
    assert own.find(class_="nhsuk-tag").get_text(strip=True) == "Answered"
    message = outbox.last()
    assert message["To"] == "asker@example.org"
    assert "Yes, the children's A&E too." in outbox.text(message)
    assert f"http://localhost/updates/{update.slug}#question-{question.id}" in outbox.links()


def test_rejected_questions_never_appear(editor, make_user, make_update):
    update = make_update()
    question = questions.ask_question(make_user(), update, "Buy cheap pills")
    questions.moderate_question(editor, question, approve=False)
    db.session.commit()
    assert questions.public_questions(update.id) == []
    with pytest.raises(ValidationError):
        questions.moderate_question(editor, question, approve=True)


def test_only_moderators_and_the_organisations_editors_moderate(make_user, make_org,
                                                                 make_update):
    update = make_update()
    question = questions.ask_question(make_user(), update, "Why?")
    with pytest.raises(PermissionDenied):
        questions.moderate_question(make_user(), question, True)
    with pytest.raises(PermissionDenied):
        questions.moderate_question(make_user(org=make_org()), question, True)
    questions.moderate_question(make_user(role="moderator"), question, True)
    assert question.status == QuestionStatus.PUBLISHED


def test_asking_needs_a_published_update_and_sensible_text(make_user, make_update):
    person = make_user()
    with pytest.raises(ValidationError):
        questions.ask_question(person, make_update(publish=False), "Why?")
    with pytest.raises(ValidationError, match="2,000 characters or fewer"):
        questions.ask_question(person, make_update(), "x" * 2001)


def test_three_reports_hide_a_question_until_a_moderator_restores_it(
        client, sign_in_as, make_user, editor, make_update):
    update = make_update()
    question = questions.ask_question(make_user(), update, "A fair question")
    questions.moderate_question(editor, question, True)
    db.session.commit()
    reporters = [make_user() for _ in range(3)]
    for number, person in enumerate(reporters, start=1):
        sign_in_as(person)
        response = client.post(f"/question/{question.id}/report", data={"reason": "spam"})
        assert response.status_code == 303
        db.session.refresh(question)
        assert question.report_count == number
        if number == 1:  # one report per person
            again = client.post(f"/question/{question.id}/report", data={"reason": "spam"})
            assert again.status_code == 303
            db.session.refresh(question)
            assert question.report_count == 1
    assert question.status == QuestionStatus.HIDDEN
    assert "A fair question" not in client.get(f"/updates/{update.slug}").get_data(as_text=True)

    with pytest.raises(NotFound):  # a hidden item cannot be reported again
        questions.report(make_user(), "question", question.id, "spam")
    moderator = make_user(role="moderator")
    sign_in_as(moderator)
    assert "Hidden after reports" in client.get("/moderation").get_data(as_text=True)
    client.post(f"/moderation/questions/{question.id}", data={"decision": "approve"})
    db.session.refresh(question)
    assert question.status == QuestionStatus.PUBLISHED and question.report_count == 0
    assert "A fair question" in client.get(f"/updates/{update.slug}").get_data(as_text=True)


def test_one_report_puts_a_question_in_the_queue_and_the_audit_log(
        client, sign_in_as, make_user, editor, make_update):
    from feedback.audit.models import AuditEvent

    update = make_update()
    question = questions.ask_question(make_user(), update, "Who is the nurse on ward 4?")
    questions.moderate_question(editor, question, True)
    db.session.commit()
    sign_in_as(make_user(name="Quiet Heron 12"))
    response = client.post(f"/question/{question.id}/report",
                           data={"reason": "personal_information"})
    assert response.status_code == 303
    db.session.refresh(question)
    assert question.status == QuestionStatus.PUBLISHED  # below the threshold: still shown

    sign_in_as(make_user(role="moderator", name="Platform Moderator"))
    queue = client.get("/moderation").get_data(as_text=True)
    assert "Who is the nurse on ward 4?" in queue and "Reported, still shown" in queue
    assert "Reported: It shares someone's personal information" in queue  # not the code
    client.post(f"/moderation/questions/{question.id}", data={"decision": "reject"})
    db.session.refresh(question)
    assert question.status == QuestionStatus.REJECTED
    assert "ward 4" not in client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert "ward 4" not in client.get("/moderation").get_data(as_text=True)
    assert questions.report_reasons(ReportTarget.QUESTION, question.id) == []
    with pytest.raises(ValidationError, match="already been moderated"):
        questions.moderate_question(editor, question, True)

    events = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.target_type == "Question").order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor.public_name) for e in events][-2:] == [
        ("question.reported", "Quiet Heron 12"), ("question.rejected", "Platform Moderator")]
    assert events[-1].details["reports"] == ["personal_information"]
    assert "after reports (personal_information)" in events[-1].summary
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "question.reported" in log and "question.rejected" in log


def test_keeping_a_reported_question_closes_its_reports(make_user, editor, make_update):
    question = questions.ask_question(make_user(), make_update(), "A fair question")
    questions.moderate_question(editor, question, True)
    questions.report(make_user(), "question", question.id, "misleading")
    db.session.commit()
    moderator = make_user(role="moderator")
    assert questions.moderation_queue(moderator).questions == [question]
    questions.moderate_question(moderator, question, True)
    db.session.commit()
    assert question.status == QuestionStatus.PUBLISHED and question.report_count == 0
    assert questions.moderation_queue(moderator).questions == []


def test_reporting_is_rate_limited(make_app):
    from feedback.accounts import services as accounts
    from feedback.organisations import services as organisations
    from feedback.updates import services
    from tests.conftest import login
    from tests.updates.conftest import update_data

    limited = make_app(RATELIMIT_ENABLED=True, REPORT_RATE_LIMIT="2 per minute")
    with limited.app_context():
        trust = organisations.create_organisation(None, {"kind": "nhs", "name": "Riverside"})
        dataset = organisations.create_dataset(None, trust, {"name": "Sickle cell audit"})
        update = services.create_update(None, trust, update_data(dataset))
        services.publish_update(None, update)
        moderator = accounts.create_user("moderator@example.org", role="moderator")
        asked = [questions.ask_question(accounts.create_user(f"asker{n}@example.org"), update,
                                        f"Question {n}") for n in range(3)]
        for question in asked:
            questions.moderate_question(moderator, question, True)
        reporter = accounts.create_user("reporter@example.org")
        db.session.commit()
        client = limited.test_client()
        login(client, reporter)
        statuses = [client.post(f"/question/{q.id}/report", data={"reason": "spam"})
                    .status_code for q in asked]
    assert statuses == [303, 303, 429]
