"""The report threshold is a setting: here one report hides an answer."""

from __future__ import annotations

import pytest

from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.updates import questions
from feedback.updates.models import AnswerStatus


@pytest.fixture
def app_config():
    return {"QUESTION_REPORT_THRESHOLD": 1}


def test_the_threshold_is_a_setting_and_answers_can_be_reported(make_user, editor,
                                                                make_update):
    update = make_update()
    question = questions.ask_question(make_user(), update, "Why?")
    questions.moderate_question(editor, question, True)
    answer = questions.answer_question(editor, question, "Because.")
    db.session.commit()
    questions.report(make_user(), "answer", answer.id, "misleading")
    assert answer.status == AnswerStatus.HIDDEN  # one report is enough here
    queue = questions.moderation_queue(make_user(role="moderator"))
    assert queue.answers == [answer]
    questions.review_answer(editor, answer, keep=False)
    db.session.commit()
    db.session.refresh(question)
    assert question.answer is None
    with pytest.raises(ValidationError):
        questions.report(make_user(), "question", question.id, "not-a-reason")
