"""Priority-round news for digests: voting opening, results, and organisers' responses.
Used when the priorities domain is installed; every audience gets it, whatever its
filters (``priority`` is True).

Titles are the round's or priority's own (content, translated like any other); ``news``
says what happened ("voting", "results" or "response"), and the renderer words it in
each reader's language (``rendering.NEWS_LABELS``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select

from feedback.core.urls import external_url
from feedback.extensions import db
from feedback.priorities.models import Phase, Priority, PriorityRound


def _window(column, since: datetime | None, until: datetime):
    condition = and_(column.is_not(None), column <= until)
    return condition if since is None else and_(condition, column > since)


def round_news(since: datetime | None, until: datetime) -> list[dict]:
    """News items whose moment falls in ``(since, until]``."""
    items: list[dict] = []
    # ``title`` is the content's own title, so its translation is found; ``label`` says
    # which words the rendering puts around it, in the reader's language.
    moments = (
        ("voting", PriorityRound.voting_opens_at, Phase.VOTING),
        ("results", PriorityRound.voting_closes_at, Phase.RESULTS),
    )
    for kind, column, phase in moments:
        for round_ in db.session.scalars(select(PriorityRound).where(
                _window(column, since, until))):
            if not round_.phase_at_least(phase):
                continue
            moment = getattr(round_, column.key)
            items.append({
                "kind": f"round-{kind}", "id": round_.id, "title": round_.title, "news": kind,
                "summary": round_.scope,
                "url": external_url("priorities.round_page", slug=round_.slug),
                "published_at": moment.isoformat(), "organisation": "",
                "organisation_id": None, "topics": [], "areas": [], "language": "en",
                "priority": True})
    responses = select(Priority).where(_window(Priority.response_published_at, since, until))
    for priority in db.session.scalars(responses):
        items.append({
            "kind": "priority-response", "id": priority.id,
            "title": priority.title, "news": "response", "summary": priority.response_text,
            "url": external_url("priorities.priority", priority_id=priority.id),
            "published_at": priority.response_published_at.isoformat(), "organisation": "",
            "organisation_id": None, "topics": [], "areas": [], "language": "en",
            "priority": True})
    return items
