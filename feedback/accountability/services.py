"""Each organisation's loop-closure record, computed from the updates and priorities
tables: nothing here is stored. Every figure is a plain function of rows, so unit tests can
pin known inputs to known outputs; counts that describe people leave here suppressed."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from feedback.core.models import utcnow
from feedback.core.suppression import PublishedCount, suppress_count
from feedback.extensions import db
from feedback.organisations.models import Dataset, Organisation
from feedback.priorities.models import (
    PHASE_ORDER,
    Ballot,
    Phase,
    Priority,
    PriorityRound,
    ResponseStatus,
    ShortlistEntry,
    ShortlistVersion,
    round_organisations,
)
from feedback.updates.models import (
    Answer,
    AnswerStatus,
    Question,
    QuestionStatus,
    Update,
    UpdateStatus,
    update_datasets,
)

PROMISED = (ResponseStatus.WILL_BE_RESEARCHED, ResponseStatus.IN_PROGRESS)
SECONDS_PER_DAY = 86_400


# Pure figures -------------------------------------------------------------------------

def quarter_of(moment: datetime) -> str:
    """``2026-11-03`` -> ``"2026 Q4"``."""
    return f"{moment.year} Q{(moment.month - 1) // 3 + 1}"


def quarter_label(key: str) -> str:
    """``"2026 Q2"`` (the key in data) in the reader's language."""
    from flask_babel import gettext

    return gettext("Q%(quarter)s %(year)s", quarter=key[-1], year=key[:4])


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter label from ``first`` to ``last`` inclusive, so empty quarters show."""
    year, quarter = int(first[:4]), int(first[-1])
    end = (int(last[:4]), int(last[-1]))
    labels = []
    while (year, quarter) <= end:
        labels.append(f"{year} Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return labels


def per_quarter(moments: Iterable[datetime]) -> list[tuple[str, int]]:
    """How many moments fall in each quarter, oldest first, with empty quarters as 0."""
    counts = Counter(quarter_of(m) for m in moments)
    if not counts:
        return []
    return [(label, counts.get(label, 0))
            for label in quarters_between(min(counts), max(counts))]


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_DAY


def median_days(pairs: Iterable[tuple[datetime, datetime]]) -> float | None:
    """The median of ``end - start`` in days (one decimal), or None when there are none."""
    days = [days_between(start, end) for start, end in pairs]
    if not days:
        return None
    return round(statistics.median(days), 1)


def share(part: int, whole: int) -> int | None:
    """A whole-number percentage, or None when there is nothing to divide by."""
    if whole == 0:
        return None
    return round(100 * part / whole)


# Results ------------------------------------------------------------------------------

@dataclass
class DatasetUse:
    name: str
    slug: str
    updates: int


@dataclass
class PromisedPriority:
    id: int
    title: str
    status_label: str
    promised_at: datetime | None
    days_waited: int | None
    updates: list[Update] = field(default_factory=list)


@dataclass
class Record:
    """One organisation's figures."""

    organisation: Organisation
    updates_published: int = 0
    updates_per_quarter: list[tuple[str, int]] = field(default_factory=list)
    datasets: list[DatasetUse] = field(default_factory=list)
    priorities: int = 0
    priorities_with_response: int = 0
    response_share: int | None = None
    median_days_to_response: float | None = None
    voters: PublishedCount = field(default_factory=lambda: PublishedCount(0))
    questions: int = 0
    questions_answered: int = 0
    answered_share: int | None = None
    median_days_to_answer: float | None = None
    askers: PublishedCount = field(default_factory=lambda: PublishedCount(0))
    promised: list[PromisedPriority] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.updates_published or self.priorities or self.questions)


def _published_updates(org_id: int) -> Sequence[Update]:
    return db.session.scalars(
        select(Update).where(Update.organisation_id == org_id,
                             Update.status == UpdateStatus.PUBLISHED)
        .order_by(Update.published_at)).all()


def dataset_uses(org_id: int) -> list[DatasetUse]:
    """The datasets the organisation's published updates drew on, most used first."""
    rows = db.session.execute(
        select(Dataset.name, Dataset.slug, func.count(update_datasets.c.update_id))
        .join(update_datasets, update_datasets.c.dataset_id == Dataset.id)
        .join(Update, Update.id == update_datasets.c.update_id)
        .where(Update.organisation_id == org_id, Update.status == UpdateStatus.PUBLISHED)
        .group_by(Dataset.id, Dataset.name, Dataset.slug)).all()
    return sorted((DatasetUse(name, slug, count) for name, slug, count in rows),
                  key=lambda d: (-d.updates, d.name))


def _results_phases() -> list[Phase]:
    return PHASE_ORDER[PHASE_ORDER.index(Phase.RESULTS):]


def organisation_priorities(org_id: int) -> list[Priority]:
    """Priorities the organisation ran (shortlisted in its rounds that reached results) or
    answered (one of its published updates says it answers them)."""
    ran = (select(ShortlistEntry.priority_id)
           .join(ShortlistVersion, ShortlistVersion.id == ShortlistEntry.version_id)
           .join(PriorityRound, PriorityRound.id == ShortlistVersion.round_id)
           .join(round_organisations, round_organisations.c.round_id == PriorityRound.id)
           .where(round_organisations.c.organisation_id == org_id,
                  PriorityRound.phase.in_(_results_phases())))
    answered = (select(Update.answers_priority_id)
                .where(Update.organisation_id == org_id,
                       Update.status == UpdateStatus.PUBLISHED,
                       Update.answers_priority_id.is_not(None)))
    return list(db.session.scalars(
        select(Priority).where(Priority.id.in_(ran) | Priority.id.in_(answered))
        .order_by(Priority.id)))


def _voters(org_id: int) -> PublishedCount:
    raw = db.session.scalar(
        select(func.count(Ballot.id))
        .join(round_organisations, round_organisations.c.round_id == Ballot.round_id)
        .where(round_organisations.c.organisation_id == org_id)) or 0
    return suppress_count(raw)


def _linked_updates(priority_ids: list[int]) -> dict[int, list[Update]]:
    linked: dict[int, list[Update]] = defaultdict(list)
    if priority_ids:
        for update in db.session.scalars(
                select(Update).where(Update.answers_priority_id.in_(priority_ids),
                                     Update.status == UpdateStatus.PUBLISHED)
                .order_by(Update.published_at)):
            linked[update.answers_priority_id].append(update)
    return linked


def promised_and_delivered(priorities: Sequence[Priority],
                           now: datetime | None = None) -> list[PromisedPriority]:
    """Priorities marked "will be researched" or "in progress", longest waiting first,
    each with the published updates linked to it."""
    now = now or utcnow()
    promised = [p for p in priorities if p.response_status in PROMISED]
    linked = _linked_updates([p.id for p in promised])
    items = [PromisedPriority(
        p.id, p.title, p.response_label, p.response_published_at,
        int(days_between(p.response_published_at, now)) if p.response_published_at else None,
        linked.get(p.id, [])) for p in promised]
    return sorted(items, key=lambda i: (-(i.days_waited or 0), i.id))


def _question_rows(org_id: int) -> list[tuple[int | None, datetime, datetime | None]]:
    """(author, asked at, answered at or None) for published questions on its updates."""
    return [tuple(row) for row in db.session.execute(
        select(Question.author_id, Question.created_at, Answer.created_at)
        .join(Update, Update.id == Question.update_id)
        .outerjoin(Answer, (Answer.question_id == Question.id)
                   & (Answer.status == AnswerStatus.PUBLISHED))
        .where(Update.organisation_id == org_id,
               Question.status == QuestionStatus.PUBLISHED))]


def organisation_record(org: Organisation, now: datetime | None = None) -> Record:
    """Every figure for one organisation."""
    record = Record(org)
    updates = _published_updates(org.id)
    record.updates_published = len(updates)
    record.updates_per_quarter = per_quarter(u.published_at for u in updates if u.published_at)
    record.datasets = dataset_uses(org.id)

    priorities = organisation_priorities(org.id)
    record.priorities = len(priorities)
    responded = [p for p in priorities if p.response_published_at is not None]
    record.priorities_with_response = len(responded)
    record.response_share = share(len(responded), len(priorities))
    # From the day the round's results were published, whatever dates were planned.
    record.median_days_to_response = median_days(
        (p.round.results_published_at, p.response_published_at) for p in responded
        if p.round.results_published_at is not None)
    record.voters = _voters(org.id)
    record.promised = promised_and_delivered(priorities, now)

    rows = _question_rows(org.id)
    answered = [(asked, answered_at) for _author, asked, answered_at in rows if answered_at]
    record.questions = len(rows)
    record.questions_answered = len(answered)
    record.answered_share = share(len(answered), len(rows))
    record.median_days_to_answer = median_days(answered)
    record.askers = suppress_count(len({author for author, _a, _b in rows
                                        if author is not None}))
    return record


def platform_records(now: datetime | None = None) -> list[Record]:
    """Every organisation's figures, in name order (never ranked)."""
    orgs = db.session.scalars(select(Organisation).order_by(Organisation.name))
    return [organisation_record(org, now) for org in orgs]


