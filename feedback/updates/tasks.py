"""Work done after a commit: emailing the person who asked a question. It takes ids, runs
in an app context and sends through ``feedback.core.mail``. Followers' emails are queued
when an update is published and sent by the delivery workers
(``feedback.notifications``)."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from feedback.core.languages import get_language
from feedback.core.mail import send_template_email
from feedback.core.urls import external_url, request_context
from feedback.extensions import db
from feedback.updates.models import Question


def notify_asker(question_id: int) -> bool:
    """Tell the person who asked that their question has an answer."""
    with request_context():
        return _notify_asker(question_id)


def _notify_asker(question_id: int) -> bool:
    question = db.session.get(Question, question_id)
    if question is None or question.answer is None or question.author is None:
        return False
    asker = question.author
    if asker.is_deleted or not asker.email:
        return False
    link = external_url("updates.update", slug=question.update.slug,
                      _anchor=f"question-{question.id}")
    language = (get_language(asker.language)
                or get_language(current_app.config["DEFAULT_LANGUAGE"]))
    from feedback.translation.display import localised_text

    with force_locale(language.babel_locale):  # the asker's language, not the answerer's
        # The question is the asker's own words, shown as they wrote them; the rest is
        # in their language where a checked translation exists, else noted as English.
        title = localised_text(question.update.title, language, kind="text")
        send_template_email(
            asker.email, _("Your question has been answered: %(title)s", title=title.text),
            "question_answered", question=question, link=link, title=title,
            answer=localised_text(question.answer.body, language, kind="text"),
            organisation=localised_text(question.update.organisation.name, language,
                                        kind="text"))
    return True
