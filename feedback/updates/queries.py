"""Reading updates: filters, cursor pages, search, one update with what its page shows,
and the terms (topics, areas, community tags)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from feedback.accounts.permissions import can_edit_org
from feedback.core.exceptions import NotFound, found
from feedback.core.markdown import render_markdown
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.organisations.models import Dataset, Organisation, Service
from feedback.updates.models import (
    MAX_ID,
    TERM_MAX,
    Term,
    TermKind,
    Update,
    UpdateKind,
    UpdateStatus,
    update_datasets,
    update_services,
    update_terms,
)
from feedback.updates.search import search_condition

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100

# The fields people write, in the order forms and the API use them.
TEXT_FIELDS = ("title", "summary", "body", "what_changed", "who_benefits", "purpose",
               "legal_basis")
TERM_FIELDS = {"topics": TermKind.TOPIC, "areas": TermKind.AREA,
               "community_tags": TermKind.COMMUNITY}


class UpdateLocked(ValidationError):
    """The update cannot change in this way (for example, it was withdrawn)."""


# Reading ------------------------------------------------------------------------------

@dataclass
class UpdateFilters:
    """What a reader narrowed the list to. Unknown slugs match nothing; a bad ``kind``
    is a ValidationError (400)."""

    organisation: str | None = None
    dataset: str | None = None
    service: str | None = None
    topic: str | None = None
    area: str | None = None
    community: str | None = None
    kind: UpdateKind | None = None
    q: str | None = None
    priority: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> UpdateFilters:
        """Read filters from a query string."""
        values: dict[str, Any] = {}
        for name in ("organisation", "dataset", "service", "topic", "area", "community"):
            raw = (args.get(name) or "").strip()
            if raw:
                values[name] = clean_text(raw, label=f"the {name}", max_length=TERM_MAX,
                                          field=name)
        kind = (args.get("kind") or "").strip()
        if kind:
            try:
                values["kind"] = UpdateKind(kind)
            except ValueError:
                raise ValidationError(_l("Unknown kind of update."), "kind") from None
        q = (args.get("q") or "").strip()
        if q:
            values["q"] = clean_text(q, label=_l("the search"), max_length=200, field="q")
        priority = (args.get("priority") or "").strip()
        if priority:
            if not priority.isdigit() or int(priority) > MAX_ID:
                raise ValidationError(_l("Unknown research priority."), "priority")
            values["priority"] = int(priority)
        return cls(**values)

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links to feeds and pages)."""
        result = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value not in (None, ""):
                result[field.name] = str(value)
        return result

    def __bool__(self) -> bool:
        return bool(self.as_args())


@dataclass
class UpdatePage:
    """One page of updates, newest first, and the cursor for the next page (if any)."""

    items: Sequence[Update]
    next_cursor: str | None
    cursor: str | None = None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def _term_filter(kind: TermKind, slug: str):
    return Update.id.in_(select(update_terms.c.update_id)
                         .join(Term, Term.id == update_terms.c.term_id)
                         .where(Term.kind == kind, Term.slug == slug))


def apply_filters(statement: Select, filters: UpdateFilters) -> Select:
    if filters.organisation:
        statement = statement.where(Update.organisation_id.in_(
            select(Organisation.id).where(Organisation.slug == filters.organisation)))
    if filters.dataset:
        statement = statement.where(Update.id.in_(
            select(update_datasets.c.update_id)
            .join(Dataset, Dataset.id == update_datasets.c.dataset_id)
            .where(Dataset.slug == filters.dataset)))
    if filters.service:
        statement = statement.where(Update.id.in_(
            select(update_services.c.update_id)
            .join(Service, Service.id == update_services.c.service_id)
            .where(Service.slug == filters.service)))
    if filters.topic:
        statement = statement.where(_term_filter(TermKind.TOPIC, filters.topic))
    if filters.area:
        statement = statement.where(_term_filter(TermKind.AREA, filters.area))
    if filters.community:
        statement = statement.where(_term_filter(TermKind.COMMUNITY, filters.community))
    if filters.kind:
        statement = statement.where(Update.kind == filters.kind)
    if filters.priority is not None:
        statement = statement.where(Update.answers_priority_id == filters.priority)
    if filters.q:
        condition = search_condition(filters.q, Update.id)
        if condition is not None:
            statement = statement.where(condition)
    return statement


def encode_cursor(update: Update) -> str:
    stamp = int(update.published_at.timestamp() * 1_000_000)
    return f"{stamp}-{update.id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _sep, update_id = cursor.partition("-")
        if len(cursor) > 40 or not stamp.isdigit() or not update_id.isdigit():
            raise ValueError(cursor)
        # An id past the largest possible one means "from the start": clamp it.
        return (datetime.fromtimestamp(int(stamp) / 1_000_000, UTC),
                min(int(update_id), MAX_ID))
    except (ValueError, OverflowError, OSError):
        raise ValidationError(_l("That page link is not valid. Go back to the first page."),
                              "cursor") from None


def list_options(details: bool = False) -> list:
    """Eager loading for lists: a fixed number of queries however many updates there are.
    ``details`` also loads what the API and feeds show."""
    options = [joinedload(Update.organisation), selectinload(Update.terms)]
    if details:
        options += [selectinload(Update.datasets), selectinload(Update.services),
                    selectinload(Update.evidence_links)]
    return options


def list_published_updates(filters: UpdateFilters | None = None, *, cursor: str | None = None,
                           per_page: int = DEFAULT_PER_PAGE, details: bool = False
                           ) -> UpdatePage:
    """Published updates, newest first, narrowed by ``filters``. Keyset pagination
    (``cursor`` is the previous page's ``next_cursor``) stays fast however deep it goes."""
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    statement = (select(Update).options(*list_options(details))
                 .where(Update.status == UpdateStatus.PUBLISHED)
                 .order_by(Update.published_at.desc(), Update.id.desc()))
    statement = apply_filters(statement, filters or UpdateFilters())
    if cursor:
        published_at, update_id = decode_cursor(cursor)
        # A row comparison, which PostgreSQL (and SQLite) turn into an index range;
        # the equivalent OR made PostgreSQL filter every row before the cursor.
        statement = statement.where(
            tuple_(Update.published_at, Update.id) < tuple_(published_at, update_id))
    rows = db.session.scalars(statement.limit(per_page + 1)).unique().all()
    items = rows[:per_page]
    next_cursor = encode_cursor(items[-1]) if len(rows) > per_page else None
    return UpdatePage(items=items, next_cursor=next_cursor, cursor=cursor)


def search_updates(query: str, filters: UpdateFilters | None = None, *,
                   cursor: str | None = None, per_page: int = DEFAULT_PER_PAGE) -> UpdatePage:
    """Full-text search of published updates (FTS5 on SQLite, tsvector on PostgreSQL)."""
    base = filters or UpdateFilters()
    return list_published_updates(UpdateFilters(**{**base.__dict__, "q": query}),
                                  cursor=cursor, per_page=per_page)


def get_update(key: int | str) -> Update:
    """One update with everything its page shows, by id or slug (404 if there is none).
    Callers check :func:`can_view_update` before showing a draft."""
    statement = select(Update).options(
        joinedload(Update.organisation),
        selectinload(Update.datasets).joinedload(Dataset.organisation),
        selectinload(Update.services).joinedload(Service.organisation),
        selectinload(Update.terms), selectinload(Update.evidence_links),
        selectinload(Update.revisions))
    if isinstance(key, int):
        if not 0 < key <= MAX_ID:
            raise NotFound
        statement = statement.where(Update.id == key)
    else:
        statement = statement.where(Update.slug == key)
    return found(db.session.scalar(statement))


def can_view_update(user: Any, update: Update) -> bool:
    """Published and withdrawn updates are public; drafts only for the organisation."""
    return not update.is_draft or can_edit_org(user, update.organisation_id)


def list_organisation_updates(organisation_id: int, statuses: Iterable[UpdateStatus] | None
                              = None, limit: int = 200) -> Sequence[Update]:
    """An organisation's updates, drafts included (for its editors' dashboard)."""
    statement = (select(Update).options(*list_options())
                 .where(Update.organisation_id == organisation_id)
                 .order_by(Update.updated_at.desc(), Update.id.desc()).limit(limit))
    if statuses is not None:
        statement = statement.where(Update.status.in_(list(statuses)))
    return db.session.scalars(statement).unique().all()


def list_terms(kind: TermKind) -> Sequence[Term]:
    """Terms of one kind used by at least one published update (for filter menus).

    For each term, the first published update is looked up through the ``term_id``
    index (``LIMIT 1`` keeps PostgreSQL from turning this into a scan of every tagging),
    so the cost follows the number of terms, not the number of updates."""
    first_use = (select(update_terms.c.update_id)
                 .join(Update, Update.id == update_terms.c.update_id)
                 .where(update_terms.c.term_id == Term.id,
                        Update.status == UpdateStatus.PUBLISHED)
                 .limit(1).correlate(Term).scalar_subquery())
    return db.session.scalars(select(Term).where(Term.kind == kind, Term.approved.is_(True),
                                                 first_use.is_not(None))
                              .order_by(Term.name)).all()


@lru_cache(maxsize=512)
def rendered_body(body: str) -> str:
    """An update body as sanitised HTML, remembered per worker: lists, feeds and the API
    show the same bodies again and again."""
    return str(render_markdown(body))


def get_term(kind: TermKind, slug: str) -> Term | None:
    return db.session.scalar(select(Term).where(Term.kind == kind, Term.slug == slug))
