"""Reading updates: filters, cursor pages, search, one update with what its page shows,
and the terms (topics, areas, community tags)."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    Select,
    bindparam,
    exists,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload, selectinload

from feedback.accounts.permissions import can_edit_org
from feedback.core.exceptions import NotFound, found
from feedback.core.markdown import render_markdown
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.organisations.models import Dataset, Organisation, Service
from feedback.updates.models import (
    MAX_ID,
    TERM_MAX,
    EvidenceLink,
    Term,
    TermKind,
    Update,
    UpdateKind,
    UpdateStatus,
    update_datasets,
    update_services,
    update_terms,
)
from feedback.updates.search import search_condition, search_gathers_every_match

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
# How many of the newest published updates a list narrowed by a dataset, service or term
# looks through first (see ``list_published_updates``).
RECENT_WINDOW = 1000

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


@dataclass(frozen=True)
class UpdateLinks:
    """What an update links to, as the API shows it: its datasets and services (each
    with ``slug`` and ``name``), its approved topics, areas and community tags (each
    with ``name``) and its evidence links (``title`` and ``url``), each list in the
    update's own order. Objects or plain rows: only those attributes are read."""

    datasets: Sequence[Any]
    services: Sequence[Any]
    topics: Sequence[Any]
    areas: Sequence[Any]
    community_tags: Sequence[Any]
    evidence_links: Sequence[Any]

    @classmethod
    def of(cls, update: Update) -> UpdateLinks:
        """An update's links from its loaded relationships."""
        return cls(update.datasets, update.services, update.topics, update.areas,
                   update.community_tags, update.evidence_links)


@dataclass
class UpdatePage:
    """One page of updates, newest first, and the cursor for the next page (if any).
    ``links``: each update's links by id, when the page was asked for with details;
    ``topics``: the cards' topics, when it was asked for with topics."""

    items: Sequence[Update]
    next_cursor: str | None
    cursor: str | None = None
    links: dict[int, UpdateLinks] | None = None
    # Each update's approved topics as (slug, name), by id, for the cards.
    topics: dict[int, list[tuple[str, str]]] | None = None

    @property
    def topic_names(self) -> list[str]:
        """Every topic name the cards show (for one translation lookup)."""
        return [name for found in (self.topics or {}).values() for _slug, name in found]

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def _linked(link: Any, key: Any, target: Any, *where: Any, correlated: bool) -> Any:
    """Updates linked through the table ``link`` (its column ``key``) to a ``target`` row
    matching ``where``. ``correlated``: as EXISTS, checked update by update, which finds
    the newest few at once however many match (an IN list is made in full first)."""
    if correlated:
        return exists().where(link.c.update_id == Update.id, key == target.id, *where)
    return Update.id.in_(select(link.c.update_id).join(target, target.id == key)
                         .where(*where))


def _term_filter(kind: TermKind, slug: str, correlated: bool = False) -> Any:
    return _linked(update_terms, update_terms.c.term_id, Term, Term.kind == kind,
                   Term.slug == slug, correlated=correlated)


def _linked_filters(filters: UpdateFilters) -> bool:
    """Whether ``filters`` narrow by a dataset, service or term (a linked row)."""
    return bool(filters.dataset or filters.service or filters.topic or filters.area
                or filters.community)


def apply_filters(statement: Select, filters: UpdateFilters, correlated: bool = False,
                  search_ids: tuple[Any, Any] | None = None) -> Select:
    """``filters`` added to ``statement`` (of updates). ``correlated``: datasets,
    services and terms as EXISTS (see ``_linked``). ``search_ids``: the lowest and
    highest id the updates can have, which narrows a search (see ``search_condition``)."""
    if filters.organisation:
        statement = statement.where(Update.organisation_id.in_(
            select(Organisation.id).where(Organisation.slug == filters.organisation)))
    if filters.dataset:
        statement = statement.where(_linked(
            update_datasets, update_datasets.c.dataset_id, Dataset,
            Dataset.slug == filters.dataset, correlated=correlated))
    if filters.service:
        statement = statement.where(_linked(
            update_services, update_services.c.service_id, Service,
            Service.slug == filters.service, correlated=correlated))
    if filters.topic:
        statement = statement.where(_term_filter(TermKind.TOPIC, filters.topic, correlated))
    if filters.area:
        statement = statement.where(_term_filter(TermKind.AREA, filters.area, correlated))
    if filters.community:
        statement = statement.where(_term_filter(TermKind.COMMUNITY, filters.community,
                                                 correlated))
    if filters.kind:
        statement = statement.where(Update.kind == filters.kind)
    if filters.priority is not None:
        statement = statement.where(Update.answers_priority_id == filters.priority)
    if filters.q:
        condition = search_condition(filters.q, Update.id, search_ids)
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


@lru_cache(maxsize=1)
def _published_list() -> Select:
    """The published list's statement before filters, built once (its loader option
    costs more to build than the rest of the query). What else a page shows comes as
    plain rows (``update_topics``, ``update_links``)."""
    return (select(Update).options(joinedload(Update.organisation))
            .where(Update.status == UpdateStatus.PUBLISHED)
            .order_by(Update.published_at.desc(), Update.id.desc()))


def list_options() -> list:
    """Eager loading for lists: a fixed number of queries however many updates there are."""
    return [joinedload(Update.organisation), selectinload(Update.terms)]


def _before(entity: Any, cursor: str | None) -> Any:
    """Updates (``entity``: Update or an alias) after ``cursor`` in the list, or None."""
    if not cursor:
        return None
    published_at, update_id = decode_cursor(cursor)
    # A row comparison, which PostgreSQL (and SQLite) turn into an index range; the
    # equivalent OR made PostgreSQL filter every row before the cursor.
    return tuple_(entity.published_at, entity.id) < tuple_(published_at, update_id)


@lru_cache(maxsize=1)
def _recent_parts() -> tuple[Any, Any, Select, Select]:
    """``_recent_ids``' aliases and statements before filters, built once (an alias costs
    more to make than the query takes to run)."""
    recent = aliased(Update, name="recent")
    span = aliased(Update, name="span")
    bound = (select(recent.published_at).where(recent.status == UpdateStatus.PUBLISHED)
             .order_by(recent.published_at.desc(), recent.id.desc())
             .offset(RECENT_WINDOW - 1).limit(1))
    ids = (select(Update.id).where(Update.status == UpdateStatus.PUBLISHED)
           .order_by(Update.published_at.desc(), Update.id.desc()))
    return recent, span, bound, ids


def _recent_ids(filters: UpdateFilters, cursor: str | None, limit: int) -> list[int]:
    """The ids of up to ``limit`` updates matching ``filters`` among the newest
    ``RECENT_WINDOW`` published ones (after ``cursor``), newest first. Checking update
    by update, newest first, stops at ``limit``: a common topic costs a hundred index
    probes, not a list of every update that has it (20,000 at 100,000 updates).

    A search is narrowed to the lowest and highest id among those updates, so SQLite's
    full-text index reads only that part of each word's list (a common word is in a
    third of all updates: every match was gathered before, 5 to 8 ms at 100,000)."""
    recent, span, bound, ids = _recent_parts()
    after = _before(Update, cursor)
    if after is not None:
        bound = bound.where(_before(recent, cursor))
    newest = bound.scalar_subquery()
    search_ids = None
    if filters.q:
        window = [span.status == UpdateStatus.PUBLISHED, span.published_at >= newest]
        if after is not None:
            window.append(_before(span, cursor))
        search_ids = (select(func.min(span.id)).where(*window).scalar_subquery(),
                      select(func.max(span.id)).where(*window).scalar_subquery())
    statement = apply_filters(ids, filters, correlated=True, search_ids=search_ids)
    if after is not None:
        statement = statement.where(after)
    statement = statement.where(Update.published_at >= newest)
    return list(db.session.scalars(statement.limit(limit)))


@lru_cache(maxsize=1)
def _by_ids() -> Select:
    return (select(Update).options(joinedload(Update.organisation))
            .order_by(Update.published_at.desc(), Update.id.desc()))


def list_published_updates(filters: UpdateFilters | None = None, *, cursor: str | None = None,
                           per_page: int = DEFAULT_PER_PAGE, details: bool = False,
                           topics: bool = True) -> UpdatePage:
    """Published updates, newest first, narrowed by ``filters``. Keyset pagination
    (``cursor`` is the previous page's ``next_cursor``) stays fast however deep it goes.

    Narrowed by a dataset, service or term, or searched on SQLite (see
    ``search_gathers_every_match``), it looks for the page among the newest
    ``RECENT_WINDOW`` updates first, then loads those by id; only when fewer match there
    does it look through every update. The same number of queries either way: the ids,
    then the updates. One more adds what the cards show (``topics``: ``UpdatePage.topics``)
    or, with ``details``, what the API shows (``UpdatePage.links``)."""
    filters = filters or UpdateFilters()
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    rows = db.session.scalars(_page_statement(filters, cursor, per_page, _by_ids(),
                                              _published_list())).all()
    items = rows[:per_page]
    next_cursor = encode_cursor(items[-1]) if len(rows) > per_page else None
    ids = [update.id for update in items]
    return UpdatePage(items=items, next_cursor=next_cursor, cursor=cursor,
                      links=update_links(ids) if details else None,
                      topics=update_topics(ids) if topics and not details else None)


@lru_cache(maxsize=1)
def _links_statement() -> Select:
    """Built once: every link of the updates in ``:ids``, as bare columns (update, part,
    slug, name, position), in each part's order. Loaded by ``selectinload`` instead,
    four queries made an object of every row and cost half the API's list."""
    def named(part: int, model: Any, link: Any, key: Any, *where: Any) -> Select:
        return (select(link.c.update_id, literal(part, Integer).label("part"), model.slug,
                       model.name, literal(0, Integer).label("position"), model.id)
                .join(model, model.id == key).where(*where))

    def terms(part: int, kind: TermKind, *where: Any) -> Select:
        return named(part, Term, update_terms, update_terms.c.term_id, Term.kind == kind,
                     *where)

    links = union_all(
        named(0, Dataset, update_datasets, update_datasets.c.dataset_id),
        named(1, Service, update_services, update_services.c.service_id),
        terms(2, TermKind.TOPIC, Term.approved.is_(True)), terms(3, TermKind.AREA),
        terms(4, TermKind.COMMUNITY),
        select(EvidenceLink.update_id, literal(5, Integer), EvidenceLink.url,
               EvidenceLink.title, EvidenceLink.position, EvidenceLink.id),
    ).subquery("links")
    # One IN list outside the union (PostgreSQL and SQLite push it into each part).
    return (select(links.c.update_id, links.c.part, links.c.slug, links.c.name)
            .where(links.c.update_id.in_(bindparam("ids", expanding=True)))
            .order_by(links.c.part, links.c.position, links.c.name, links.c.id))


# A linked dataset, service or term, and an evidence link, as ``UpdateLinks`` holds them.
_Named = namedtuple("_Named", "slug name")
_Link = namedtuple("_Link", "url title")


def update_links(update_ids: Sequence[int]) -> dict[int, UpdateLinks]:
    """Each update's links (see ``UpdateLinks``) by id, in one query of plain rows."""
    found: dict[int, list[list[Any]]] = {update_id: [[] for _ in fields(UpdateLinks)]
                                         for update_id in update_ids}
    if update_ids:
        for update_id, part, slug, name in db.session.execute(
                _links_statement(), {"ids": list(update_ids)}):
            found[update_id][part].append(_Link(slug, name) if part == 5
                                          else _Named(slug, name))
    return {update_id: UpdateLinks(*parts) for update_id, parts in found.items()}


def _page_statement(filters: UpdateFilters, cursor: str | None, per_page: int,
                    by_ids: Select, published: Select) -> Select:
    """The statement for one page (``per_page`` and one more, to tell whether there is a
    next page): ``by_ids`` narrowed to the ids ``_recent_ids`` found, else ``published``
    with the filters and the cursor."""
    windowed = search_gathers_every_match() if filters.q else _linked_filters(filters)
    ids = _recent_ids(filters, cursor, per_page + 1) if windowed else []
    if len(ids) > per_page:
        return by_ids.where(Update.id.in_(ids))
    statement = apply_filters(published, filters)
    after = _before(Update, cursor)
    if after is not None:
        statement = statement.where(after)
    return statement.limit(per_page + 1)


@dataclass(frozen=True)
class FeedEntry:
    """What a feed shows of one update: its own columns, its organisation's name and its
    topics as (slug, name), read as plain rows rather than objects."""

    id: int
    slug: str
    title: str
    summary: str
    body: str
    published_at: datetime
    updated_at: datetime
    organisation: str
    topics: list[tuple[str, str]]


@lru_cache(maxsize=1)
def _feed_parts() -> tuple[Select, Select]:
    """``feed_entries``' statements before filters, built once. The organisation is an
    alias, so a filter's own subquery of organisations is never correlated with it."""
    org = aliased(Organisation, name="feed_organisation")
    columns = (select(Update.id, Update.slug, Update.title, Update.summary, Update.body,
                      Update.published_at, Update.updated_at, org.name)
               .join(org, org.id == Update.organisation_id)
               .order_by(Update.published_at.desc(), Update.id.desc()))
    return columns, columns.where(Update.status == UpdateStatus.PUBLISHED)


@lru_cache(maxsize=1)
def _topics_statement() -> Select:
    """Built once: the approved topics of the updates in ``:ids``, by name."""
    return (select(update_terms.c.update_id, Term.slug, Term.name)
            .join(Term, Term.id == update_terms.c.term_id)
            .where(Term.kind == TermKind.TOPIC, Term.approved.is_(True),
                   update_terms.c.update_id.in_(bindparam("ids", expanding=True)))
            .order_by(Term.name))


def update_topics(update_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """Each update's approved topics (as ``Update.topics``) as (slug, name), by id, in
    one query of plain rows (none for no updates)."""
    found: dict[int, list[tuple[str, str]]] = {update_id: [] for update_id in update_ids}
    if update_ids:
        for update_id, slug, name in db.session.execute(_topics_statement(),
                                                        {"ids": list(update_ids)}):
            found[update_id].append((slug, name))
    return found


def feed_entries(filters: UpdateFilters | None = None, per_page: int = 50
                 ) -> list[FeedEntry]:
    """The newest published updates matching ``filters``, as ``list_published_updates``
    finds them, with what a feed shows: the same queries (the page, its topics) without
    making an object of every update and topic."""
    filters = filters or UpdateFilters()
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    columns, published = _feed_parts()
    rows = db.session.execute(_page_statement(filters, None, per_page, columns, published)
                              ).all()[:per_page]
    topics = update_topics([row.id for row in rows])
    return [FeedEntry(*row, topics=topics[row.id]) for row in rows]


def search_updates(query: str, filters: UpdateFilters | None = None, *,
                   cursor: str | None = None, per_page: int = DEFAULT_PER_PAGE) -> UpdatePage:
    """Full-text search of published updates (FTS5 on SQLite, tsvector on PostgreSQL)."""
    base = filters or UpdateFilters()
    return list_published_updates(UpdateFilters(**{**base.__dict__, "q": query}),
                                  cursor=cursor, per_page=per_page)


@lru_cache(maxsize=1)
def _one_update() -> Select:
    """``get_update``'s statement before its ``where``, built once. Its datasets' and
    services' own organisations are not loaded: nothing that shows an update shows them
    (joined into their queries, they made the update page's dearest part dearer)."""
    return select(Update).options(
        joinedload(Update.organisation), selectinload(Update.datasets),
        selectinload(Update.services), selectinload(Update.terms),
        selectinload(Update.evidence_links), selectinload(Update.revisions))


def get_update(key: int | str) -> Update:
    """One update with everything its page shows, by id or slug (404 if there is none).
    Callers check :func:`can_view_update` before showing a draft."""
    statement = _one_update()
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


FILTER_MENUS = ("organisation_choices", "dataset_choices", "service_choices",
                "topic_choices", "area_choices")


@lru_cache(maxsize=1)
def _filter_menus_statement() -> Select:
    """Built once: the menus' one query of bare columns (see ``filter_menus``)."""
    def menu(number: int, model: Any, *where: Any) -> Select:
        return select(literal(number, Integer).label("menu"), model.id, model.slug,
                      model.name).where(*where)

    def terms(number: int, kind: TermKind) -> Select:
        first_use = (select(update_terms.c.update_id)
                     .join(Update, Update.id == update_terms.c.update_id)
                     .where(update_terms.c.term_id == Term.id,
                            Update.status == UpdateStatus.PUBLISHED)
                     .limit(1).correlate(Term).scalar_subquery())
        return menu(number, Term, Term.kind == kind, Term.approved.is_(True),
                    first_use.is_not(None))

    return union_all(menu(0, Organisation), menu(1, Dataset), menu(2, Service),
                     terms(3, TermKind.TOPIC), terms(4, TermKind.AREA)
                     ).order_by("menu", "name")


def filter_menus() -> dict[str, list[dict[str, Any]]]:
    """The public list's filter menus, as plain data that can be cached: every
    organisation, dataset and service, and the topics and areas (as ``list_terms``) that
    published updates use, each menu by name. One query of bare columns, not five of
    whole objects."""
    menus: dict[str, list[dict[str, Any]]] = {name: [] for name in FILTER_MENUS}
    for number, item_id, slug, name in db.session.execute(_filter_menus_statement()):
        menus[FILTER_MENUS[number]].append({"id": item_id, "slug": slug, "name": name})
    return menus


@lru_cache(maxsize=512)
def rendered_body(body: str) -> str:
    """An update body as sanitised HTML, remembered per worker: lists, feeds and the API
    show the same bodies again and again."""
    return str(render_markdown(body))


def get_term(kind: TermKind, slug: str) -> Term | None:
    return db.session.scalar(select(Term).where(Term.kind == kind, Term.slug == slug))
