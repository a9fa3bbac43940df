"""What gets translated: each domain's translatable fields, registered in one place.

One line per model: the fields, whether each is plain text or Markdown, when the object
is public enough to translate, and whose content it is (that organisation's translators
review it; no owner means platform content).
"""

from __future__ import annotations

from typing import Any

from feedback.extensions import db
from feedback.translation.registry import register_translatable


def _related(obj: Any, name: str, model: type, key: str) -> Any:
    """``obj.<name>``, loading it by ``obj.<key>`` when the object is not yet flushed."""
    found = getattr(obj, name, None)
    if found is None and getattr(obj, key, None) is not None:
        found = db.session.get(model, getattr(obj, key))
    return found


def register_content() -> None:
    from feedback.organisations.models import Dataset, Organisation, Service
    from feedback.priorities.models import (
        Priority,
        PriorityRound,
        ShortlistEntry,
        Suggestion,
        SuggestionStatus,
    )
    from feedback.subscriptions.models import Audience
    from feedback.updates.models import (
        Answer,
        AnswerStatus,
        EvidenceLink,
        Question,
        QuestionStatus,
        Term,
        Update,
        UpdateRevision,
    )

    def update_of(obj: Any) -> Update | None:
        return _related(obj, "update", Update, "update_id")

    def by_update(obj: Any) -> list[int]:
        update = update_of(obj)
        return [update.organisation_id] if update is not None else []

    def round_owners(round_: PriorityRound | None) -> list[int]:
        return [org.id for org in round_.organisations] if round_ is not None else []

    def by_round(obj: Any) -> list[int]:
        return round_owners(_related(obj, "round", PriorityRound, "round_id"))

    def by_priority(obj: Any) -> list[int]:
        priority = _related(obj, "priority", Priority, "priority_id")
        return by_round(priority) if priority is not None else []

    def published_update(obj: Any) -> bool:
        update = update_of(obj)
        return update is not None and update.is_published

    # Only published content goes to providers: drafts change and are not public.
    register_translatable(Update, when=lambda update: update.is_published,
                          owner=lambda update: [update.organisation_id],
                          title="text", summary="text", body="markdown",
                          what_changed="text", who_benefits="text", purpose="text",
                          legal_basis="text")
    register_translatable(UpdateRevision, when=published_update, owner=by_update,
                          change_note="text")
    register_translatable(EvidenceLink, when=published_update, owner=by_update,
                          title="text")
    register_translatable(
        Question, owner=by_update, body="text",
        when=lambda question: question.status == QuestionStatus.PUBLISHED)
    register_translatable(
        Answer, body="text",
        owner=lambda answer: by_update(_related(answer, "question", Question,
                                                "question_id")),
        # A new answer's status is empty until inserted: published is its default.
        when=lambda answer: answer.status in (None, AnswerStatus.PUBLISHED))
    # Topics, areas and community tags are shared by every organisation.
    register_translatable(Term, name="text")
    register_translatable(Organisation, owner=lambda org: [org.id], name="text",
                          description="markdown")
    register_translatable(Dataset, owner=lambda dataset: [dataset.organisation_id],
                          name="text", description="markdown")
    register_translatable(Service, owner=lambda service: [service.organisation_id],
                          name="text", description="markdown")

    register_translatable(PriorityRound, owner=round_owners, title="text", scope="text")
    register_translatable(Priority, owner=by_round, title="text", description="markdown",
                          response_text="markdown")
    register_translatable(ShortlistEntry, owner=by_priority, title="text",
                          description="markdown")
    register_translatable(
        Suggestion, owner=by_round, question="text", why_it_matters="text",
        public_reason="text",
        when=lambda suggestion: suggestion.status in (
            SuggestionStatus.PUBLISHED, SuggestionStatus.MERGED,
            SuggestionStatus.OUT_OF_SCOPE, SuggestionStatus.ANSWERED))
    register_translatable(Audience, owner=lambda audience: [audience.organisation_id],
                          intro="markdown", outro="markdown")
