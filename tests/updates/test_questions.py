"""Questions wait for moderation; the organisation answers publicly and the asker is
emailed; reports hide an item at the threshold until a moderator reviews it."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from feedback.accounts.permissions import PermissionDenied
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.updates import questions
from feedback.updates.models import Question, QuestionStatus


def test_ask_moderate_answer_and_email_the_asker(client, sign_in_as, make_user, editor,
                                                 make_update, outbox):
    update = make_update()
    asker = make_user(email="asker@example.org", name="Golden Baobab 214")
    sign_in_as(asker)
    response = client.post(f"/updates/{update.slug}/questions",
                           data={"body": "Does this cover children too?"})
    assert response.status_code == 302
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert "Does this cover children too?" not in page  # waiting for moderation

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
