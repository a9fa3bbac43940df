"""Questions and answers on updates, with moderation and reports.

Questions wait for a platform moderator or an editor of the owning organisation. The
organisation answers publicly (the caller commits, then runs ``tasks.notify_asker``).
Anyone signed in can report a question or answer. It goes to the moderation queue at
once (still shown), and at ``QUESTION_REPORT_THRESHOLD`` reports it is hidden until a
moderator reviews it. Reports and moderators' decisions are in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from feedback.accounts.permissions import PermissionDenied, can_edit_org, require_org_editor
from feedback.audit import services as audit
from feedback.core.caching import forget_pages
from feedback.core.exceptions import NotFound, found
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.updates.models import (
    ANSWER_MAX,
    MAX_ID,
    QUESTION_MAX,
    Answer,
    AnswerStatus,
    Question,
    QuestionStatus,
    Report,
    ReportReason,
    ReportTarget,
    Update,
)


def _signed_in(user: Any) -> Any:
    if not getattr(user, "is_authenticated", False) or getattr(user, "id", None) is None:
        raise PermissionDenied(_l("Sign in to do that."))
    return user


def can_moderate(user: Any, update: Update) -> bool:
    """Platform moderators, and editors of the organisation that owns the update."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(getattr(user, "is_moderator", False)) or can_edit_org(user,
                                                                       update.organisation_id)


def require_moderation_rights(user: Any, update: Update) -> Any:
    if not can_moderate(user, update):
        raise PermissionDenied(_l("Only moderators and this organisation's editors can do that."))
    return user


def get_question(question_id: int) -> Question:
    if not 0 < question_id <= MAX_ID:
        raise NotFound
    statement = (select(Question).options(joinedload(Question.update).joinedload(
        Update.organisation), joinedload(Question.answer), joinedload(Question.author))
        .where(Question.id == question_id))
    return found(db.session.scalar(statement))


def get_answer(answer_id: int) -> Answer:
    if not 0 < answer_id <= MAX_ID:
        raise NotFound
    statement = (select(Answer).options(joinedload(Answer.question).joinedload(
        Question.update).joinedload(Update.organisation)).where(Answer.id == answer_id))
    return found(db.session.scalar(statement))


def ask_question(user: Any, update: Update, body: str | None) -> Question:
    """A signed-in person asks a question; it waits for moderation."""
    _signed_in(user)
    if not update.is_published:
        raise ValidationError(_l("You can only ask about a published update."), "body")
    text = clean_text(body, label=_l("your question"), max_length=QUESTION_MAX, required=True,
                      field="body", multiline=True)
    question = Question(update_id=update.id, author_id=user.id, body=text)
    db.session.add(question)
    db.session.flush()
    return question


def moderate_question(actor: Any, question: Question, approve: bool) -> Question:
    """Publish or reject a waiting question, or review a reported one (hidden or still
    shown): approving keeps it published, rejecting takes it down. Reviewing closes its
    reports."""
    forget_pages()  # anonymous pages show this
    require_moderation_rights(actor, question.update)
    reasons = [entry.reason.value for entry in report_reasons(ReportTarget.QUESTION,
                                                              question.id)]
    reviewable = question.status in (QuestionStatus.PENDING, QuestionStatus.HIDDEN) or (
        question.status == QuestionStatus.PUBLISHED and reasons)
    if not reviewable:
        raise ValidationError(_l("This question has already been moderated."))
    if reasons or question.status == QuestionStatus.HIDDEN:
        _resolve_reports(ReportTarget.QUESTION, question.id)
        question.report_count = 0
    question.status = QuestionStatus.PUBLISHED if approve else QuestionStatus.REJECTED
    question.moderated_at = utcnow()
    question.moderated_by_id = actor.id
    db.session.flush()
    verb = "Published" if approve else "Rejected"
    after = f" after reports ({', '.join(reasons)})" if reasons else ""
    audit.record("question.approved" if approve else "question.rejected", actor=actor,
                 organisation=question.update.organisation, target=question,
                 summary=f"{verb} a question{after} on {question.update.title}"[:300],
                 reports=reasons)
    return question


def answer_question(actor: Any, question: Question, body: str | None) -> Answer:
    """The owning organisation answers a published question (or edits its answer)."""
    forget_pages()  # anonymous pages show this
    require_org_editor(actor, question.update.organisation_id)
    if question.status != QuestionStatus.PUBLISHED:
        raise ValidationError(_l("Approve the question before answering it."), "body")
    text = clean_text(body, label=_l("your answer"), max_length=ANSWER_MAX, required=True,
                      field="body", multiline=True)
    if question.answer is None:
        question.answer = Answer(author_id=actor.id, body=text)
    else:
        question.answer.body = text
        question.answer.author_id = actor.id
    db.session.flush()
    audit.record("question.answered", actor=actor, organisation=question.update.organisation,
                 target=question, summary=f"Answered a question on {question.update.title}"
                 [:300])
    return question.answer


def report(user: Any, target_type: str, target_id: int, reason: str | None) -> Report:
    """Report a published question or answer. At the threshold it is hidden until a
    moderator reviews it. One report per person per item."""
    forget_pages()  # anonymous pages show this
    _signed_in(user)
    try:
        kind = ReportTarget(target_type)
    except ValueError:
        raise ValidationError(_l("Choose what to report.")) from None
    try:
        why = ReportReason(reason)
    except ValueError:
        raise ValidationError(_l("Choose a reason for reporting it."), "reason") from None
    model = Question if kind == ReportTarget.QUESTION else Answer
    item = db.session.get(model, target_id) if 0 < target_id <= MAX_ID else None
    if item is None or item.status != "published":
        raise NotFound
    already = db.session.scalar(select(exists().where(
        Report.target_type == kind, Report.target_id == item.id, Report.user_id == user.id)))
    if already:
        raise ValidationError(_l("You have already reported this. A moderator will look at it."),
                              "reason")
    entry = Report(target_type=kind, target_id=item.id, user_id=user.id, reason=why)
    db.session.add(entry)
    item.report_count += 1
    hidden = item.report_count >= current_app.config["QUESTION_REPORT_THRESHOLD"]
    if hidden:
        item.status = (QuestionStatus.HIDDEN if kind == ReportTarget.QUESTION
                       else AnswerStatus.HIDDEN)
    db.session.flush()
    if kind == ReportTarget.QUESTION:
        on, what = item.update, "a question"
    else:
        on, what = item.question.update, "an answer"
    summary = f"Reported {what} on {on.title} ({why.value})" + (", now hidden" if hidden else "")
    audit.record(f"{kind.value}.reported", actor=user, organisation=on.organisation,
                 target=item, summary=summary[:300], reason=why.value,
                 reports=item.report_count)
    return entry


def _resolve_reports(kind: ReportTarget, target_id: int) -> None:
    db.session.execute(update(Report).where(Report.target_type == kind,
                                            Report.target_id == target_id,
                                            Report.resolved_at.is_(None))
                       .values(resolved_at=utcnow()))


def review_answer(actor: Any, answer: Answer, keep: bool) -> None:
    """A moderator keeps (or restores) a reported answer, or removes it for good."""
    forget_pages()  # anonymous pages show this
    require_moderation_rights(actor, answer.question.update)
    reasons = [entry.reason.value for entry in report_reasons(ReportTarget.ANSWER, answer.id)]
    _resolve_reports(ReportTarget.ANSWER, answer.id)
    verb = "Restored" if keep else "Removed"
    after = f" after reports ({', '.join(reasons)})" if reasons else ""
    audit.record("answer.restored" if keep else "answer.removed", actor=actor,
                 organisation=answer.question.update.organisation, target=answer,
                 summary=f"{verb} an answer{after} on {answer.question.update.title}"[:300],
                 reports=reasons)
    if keep:
        answer.status = AnswerStatus.PUBLISHED
        answer.report_count = 0
    else:
        answer.question.answer = None
    db.session.flush()


def public_questions(update_id: int) -> Sequence[Question]:
    """Published questions on an update, oldest first, with their answers (two queries)."""
    return db.session.scalars(_public_questions().where(Question.update_id == update_id)
                              ).all()


@lru_cache(maxsize=1)
def _public_questions() -> Select:
    """``public_questions``' statement before its update, built once per worker."""
    return (select(Question).options(selectinload(Question.answer),
                                     joinedload(Question.author))
            .where(Question.status == QuestionStatus.PUBLISHED)
            .order_by(Question.created_at, Question.id))


def own_questions(user: Any, update_id: int) -> Sequence[Question]:
    """The signed-in person's own questions on an update, whatever their status, so they
    can see one waiting for a moderator (one query; none for anonymous readers)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return db.session.scalars(
        select(Question).options(selectinload(Question.answer))
        .where(Question.update_id == update_id, Question.author_id == user.id)
        .order_by(Question.created_at, Question.id)).all()


def unanswered_questions(update_id: int) -> Sequence[Question]:
    """Published questions still waiting for the organisation's answer."""
    return [q for q in public_questions(update_id) if q.answer is None]


@dataclass
class ModerationQueue:
    questions: Sequence[Question]
    answers: Sequence[Answer]

    def __len__(self) -> int:
        return len(self.questions) + len(self.answers)


def _open_reports(kind: ReportTarget, target_id: Any) -> Any:
    return exists().where(Report.target_type == kind, Report.target_id == target_id,
                          Report.resolved_at.is_(None))


def moderation_queue(actor: Any) -> ModerationQueue:
    """Questions waiting for moderation, and questions and answers with open reports
    (hidden or still shown). A platform moderator sees everything; an editor sees their
    organisations' updates."""
    _signed_in(actor)
    org_ids = None
    if not getattr(actor, "is_moderator", False):
        org_ids = [m.organisation_id for m in actor.memberships]
        if not org_ids:
            raise PermissionDenied(_l("Only moderators and organisation editors can moderate."))
    questions = (select(Question).join(Question.update)
                 .options(joinedload(Question.update).joinedload(Update.organisation),
                          joinedload(Question.author))
                 .where(or_(Question.status == QuestionStatus.PENDING,
                            Question.status == QuestionStatus.HIDDEN,
                            (Question.status == QuestionStatus.PUBLISHED)
                            & _open_reports(ReportTarget.QUESTION, Question.id)))
                 .order_by(Question.created_at, Question.id).limit(200))
    answers = (select(Answer).join(Answer.question).join(Question.update)
               .options(joinedload(Answer.question).joinedload(Question.update)
                        .joinedload(Update.organisation))
               .where(or_(Answer.status == AnswerStatus.HIDDEN,
                          (Answer.status == AnswerStatus.PUBLISHED)
                          & _open_reports(ReportTarget.ANSWER, Answer.id)))
               .order_by(Answer.created_at, Answer.id).limit(200))
    if org_ids is not None:
        questions = questions.where(Update.organisation_id.in_(org_ids))
        answers = answers.where(Update.organisation_id.in_(org_ids))
    return ModerationQueue(questions=db.session.scalars(questions).all(),
                           answers=db.session.scalars(answers).all())


def report_reasons(target_type: ReportTarget, target_id: int) -> Sequence[Report]:
    return db.session.scalars(select(Report).where(
        Report.target_type == target_type, Report.target_id == target_id,
        Report.resolved_at.is_(None))).all()
