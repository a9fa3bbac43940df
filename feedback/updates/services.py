"""Update operations, shared by the web pages, the JSON API, the CLI and the demo seed.

They check permissions and input, and only ``flush()``: the request, command or job
commits. Publishing sends no mail itself: it queues the followers' notifications in the
same transaction, and the delivery workers send them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, delete, exists, or_, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from feedback.accounts.models import User
from feedback.accounts.permissions import can_edit_org, require_org_editor
from feedback.audit import services as audit
from feedback.core.caching import forget_pages
from feedback.core.exceptions import NotFound, found
from feedback.core.keys import link_signing_keys
from feedback.core.markdown import render_markdown
from feedback.core.models import utcnow
from feedback.core.urls import external_url
from feedback.core.validation import ValidationError, clean_text, clean_url, slugify
from feedback.extensions import db
from feedback.notifications import services as notifications
from feedback.notifications.models import NotificationKind
from feedback.organisations.models import Dataset, Organisation, Service
from feedback.priorities.models import PriorityFollower
from feedback.priorities.services import follower_ids as priority_follower_ids
from feedback.updates import topics
from feedback.updates.models import (
    BODY_MAX,
    LEGAL_BASIS_MAX,
    LINK_TITLE_MAX,
    LONG_TEXT_MAX,
    MAX_EVIDENCE_LINKS,
    MAX_ID,
    MAX_TERMS,
    REASON_MAX,
    SUMMARY_MAX,
    TERM_MAX,
    TITLE_MAX,
    EvidenceLink,
    Follow,
    FollowTarget,
    OptOutApplied,
    Term,
    TermKind,
    Update,
    UpdateKind,
    UpdateRevision,
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


# Writing ------------------------------------------------------------------------------

def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.replace("\n", ",").split(","))
                if part]
    if isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise ValidationError(_l("Tags must be text."))
        return [item.strip() for item in value if item.strip()]
    raise ValidationError(_l("Tags must be a list of text."))


def _terms(kind: TermKind, value: Any, field: str, actor: Any = None) -> list[Term]:
    """Terms by name, made on first use. A new topic from an editor (``actor``) is a
    suggestion for the moderators; from the operator's tools it is on the list at once."""
    names = _split(value)
    if len(names) > MAX_TERMS:
        raise ValidationError(_l("Use at most %(count)s tags.", count=MAX_TERMS), field)
    terms: dict[str, Term] = {}
    for raw in names:
        name = clean_text(raw, label=_l("each tag"), max_length=TERM_MAX, field=field)
        if kind == TermKind.TOPIC:
            name = topics.normalise_name(name)
        slug = slugify(name)
        if slug in terms:
            continue
        term = get_term(kind, slug)
        if term is None:
            term = Term(kind=kind, slug=slug, name=name,
                        approved=kind != TermKind.TOPIC or actor is None)
            db.session.add(term)
            if not term.approved:
                audit.record("topic.suggested", actor=actor, target=None,
                             summary=f"Suggested the topic {name}"[:300])
        terms[slug] = term
    return list(terms.values())


def _catalogue(model: type, value: Any, field: str, label: str) -> list:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else [value]
    wrong = _l("Choose %(label)s from the catalogue.", label=label)
    ids: set[int] = set()
    slugs: set[str] = set()
    for item in items:
        if isinstance(item, bool):
            raise ValidationError(wrong, field)
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit()
                                     and len(item) < 12):
            if not 0 < int(item) <= MAX_ID:
                raise ValidationError(wrong, field)
            ids.add(int(item))
        elif isinstance(item, str) and 0 < len(item) <= 80:
            slugs.add(item)
        else:
            raise ValidationError(wrong, field)
    found = db.session.scalars(select(model).where(
        or_(model.id.in_(ids), model.slug.in_(slugs)))).all()
    if len(found) != len(ids) + len(slugs):
        raise ValidationError(wrong, field)
    return list(found)


def _date(value: Any, label: str, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(_l("Enter %(label)s as a real date, like 2027-03-31.", label=label),
                          field)


def _evidence(value: Any) -> list[tuple[str, str]]:
    """Evidence links from a list of ``{"title", "url"}`` or lines of ``title | url``."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        entries = []
        for line in value.splitlines():
            if not line.strip():
                continue
            title, _sep, url = line.rpartition("|")
            entries.append({"title": title.strip(), "url": url.strip()})
    elif isinstance(value, list | tuple):
        entries = list(value)
    else:
        raise ValidationError(_l("Evidence links must be a list."), "evidence_links")
    if len(entries) > MAX_EVIDENCE_LINKS:
        raise ValidationError(_l("Give at most %(count)s evidence links.",
                                 count=MAX_EVIDENCE_LINKS),
                              "evidence_links")
    links = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ValidationError(_l("Each evidence link needs a web address."), "evidence_links")
        url = clean_url(entry.get("url") if isinstance(entry.get("url"), str) else None,
                        label=_l("each evidence link"), field="evidence_links", required=True)
        title_value = entry.get("title")
        title = clean_text(title_value if isinstance(title_value, str) else None,
                           label=_l("the evidence link's title"), max_length=LINK_TITLE_MAX,
                           field="evidence_links")
        links.append((title, url))
    return links


def _text(data: Mapping[str, Any], name: str) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError(_l("%(field)s must be text.", field=name), name)
    return value


def clean_update(data: Mapping[str, Any], actor: Any = None) -> dict[str, Any]:
    """Check a whole update. Over-long text is rejected with a message, never cut. New
    topics from ``actor`` (an editor) become suggestions for the moderators."""
    cleaned: dict[str, Any] = {
        "title": clean_text(_text(data, "title"), label=_l("a title"), max_length=TITLE_MAX,
                            required=True, field="title"),
        "summary": clean_text(_text(data, "summary"), label=_l("a summary"),
                              max_length=SUMMARY_MAX, required=True, field="summary",
                              multiline=True),
        "body": clean_text(_text(data, "body"), label=_l("the full story"), max_length=BODY_MAX,
                           field="body", multiline=True),
        "what_changed": clean_text(_text(data, "what_changed"), label=_l("what changed"),
                                   max_length=LONG_TEXT_MAX, field="what_changed",
                                   multiline=True),
        "who_benefits": clean_text(_text(data, "who_benefits"), label=_l("who benefits"),
                                   max_length=LONG_TEXT_MAX, field="who_benefits",
                                   multiline=True),
        "purpose": clean_text(_text(data, "purpose"), label=_l("the purpose"),
                              max_length=LONG_TEXT_MAX, field="purpose", multiline=True),
        "legal_basis": clean_text(_text(data, "legal_basis"), label=_l("the legal basis"),
                                  max_length=LEGAL_BASIS_MAX, field="legal_basis",
                                  multiline=True),
    }
    try:
        cleaned["kind"] = UpdateKind(data.get("kind"))
    except ValueError:
        raise ValidationError(_l("Choose what kind of update this is."), "kind") from None
    try:
        cleaned["opt_out_applied"] = OptOutApplied(data.get("opt_out_applied")
                                                   or OptOutApplied.NOT_APPLICABLE)
    except ValueError:
        raise ValidationError(_l("Say whether national data opt-outs were applied."),
                              "opt_out_applied") from None
    cleaned["content_checked_on"] = _date(data.get("content_checked_on"),
                                          _l("the date the content was checked"),
                                          "content_checked_on")
    cleaned["next_check_due"] = _date(data.get("next_check_due"), _l("the next check date"),
                                      "next_check_due")
    if (cleaned["content_checked_on"] and cleaned["next_check_due"]
            and cleaned["next_check_due"] < cleaned["content_checked_on"]):
        raise ValidationError(_l("The next check must be after the date it was checked."),
                              "next_check_due")
    cleaned["datasets"] = _catalogue(Dataset, data.get("datasets"), "datasets",
                                     _l("the datasets used"))
    if not cleaned["datasets"]:
        raise ValidationError(_l("Choose at least one dataset that was used."), "datasets")
    cleaned["services"] = _catalogue(Service, data.get("services"), "services",
                                     _l("the services affected"))
    for name, kind in TERM_FIELDS.items():
        cleaned[name] = _terms(kind, data.get(name), name, actor)
    cleaned["evidence_links"] = _evidence(data.get("evidence_links"))
    priority = data.get("answers_priority_id")
    if priority in (None, ""):
        cleaned["answers_priority_id"] = None
    elif isinstance(priority, int) and not isinstance(priority, bool) and 0 < priority <= MAX_ID:
        cleaned["answers_priority_id"] = priority
    elif isinstance(priority, str) and priority.isdigit() and 0 < int(priority) <= MAX_ID:
        cleaned["answers_priority_id"] = int(priority)
    else:
        raise ValidationError(_l("Choose a research priority from the list."),
                              "answers_priority_id")
    if cleaned["answers_priority_id"] is not None:
        from feedback.priorities.services import linkable_priority

        if linkable_priority(cleaned["answers_priority_id"]) is None:
            raise ValidationError(_l("Choose a research priority from the list."),
                                  "answers_priority_id")
    return cleaned


def current_data(update: Update) -> dict[str, Any]:
    """The update in the shape ``clean_update`` reads (for partial edits and snapshots)."""
    return {
        **{name: getattr(update, name) for name in TEXT_FIELDS},
        "kind": update.kind.value,
        "opt_out_applied": update.opt_out_applied.value,
        "content_checked_on": update.content_checked_on,
        "next_check_due": update.next_check_due,
        "datasets": [dataset.id for dataset in update.datasets],
        "services": [service.id for service in update.services],
        "topics": [term.name for term in (*update.topics, *update.suggested_topics)],
        "areas": [term.name for term in update.areas],
        "community_tags": [term.name for term in update.community_tags],
        "evidence_links": [{"title": link.title, "url": link.url}
                           for link in update.evidence_links],
        "answers_priority_id": update.answers_priority_id,
    }


def snapshot(update: Update) -> dict[str, Any]:
    """The update as a revision keeps it: comparable, JSON-ready, order-free lists."""
    data = current_data(update)
    for name in ("datasets", "services", *TERM_FIELDS):  # order is not a change
        data[name] = sorted(data[name])
    for name in ("content_checked_on", "next_check_due"):
        data[name] = data[name].isoformat() if data[name] else None
    return data


def _apply(update: Update, cleaned: dict[str, Any]) -> None:
    for name in (*TEXT_FIELDS, "kind", "opt_out_applied", "content_checked_on",
                 "next_check_due", "answers_priority_id"):
        setattr(update, name, cleaned[name])
    update.datasets = cleaned["datasets"]
    update.services = cleaned["services"]
    update.terms = cleaned["topics"] + cleaned["areas"] + cleaned["community_tags"]
    update.evidence_links = [EvidenceLink(position=index, title=title, url=url)
                             for index, (title, url) in enumerate(cleaned["evidence_links"])]


def _unique_slug(wanted: str) -> str:
    candidate, number = wanted, 1
    while db.session.scalar(select(exists().where(Update.slug == candidate))):
        number += 1
        candidate = f"{wanted[:70]}-{number}"
    return candidate


def create_update(actor: Any, organisation: Organisation, data: Mapping[str, Any]) -> Update:
    """Save a new draft update for ``organisation``. Editors of it only (``actor=None``
    is the CLI and the demo seed)."""
    if actor is not None:
        require_org_editor(actor, organisation.id)
    cleaned = clean_update(data, actor)
    update = Update(organisation_id=organisation.id, organisation=organisation,
                    slug=_unique_slug(slugify(cleaned["title"])),
                    status=UpdateStatus.DRAFT, created_by_id=getattr(actor, "id", None))
    _apply(update, cleaned)
    db.session.add(update)
    db.session.flush()
    audit.record("update.created", actor=actor, organisation=organisation, target=update,
                 summary=f"Drafted update {update.title}"[:300])
    return update


def _refuse_if_withdrawn(update: Update) -> None:
    if update.is_withdrawn:
        raise UpdateLocked(_l("This update was withdrawn, so it cannot be changed. Reason "
                              "given: %(reason)s", reason=update.withdrawal_reason))


def update_update(actor: Any, update: Update, data: Mapping[str, Any],
                  change_note: str | None = None) -> Update:
    """Edit an update. Fields missing from ``data`` keep their values. Once published,
    every edit needs a public ``change_note`` ("what changed") and is kept as a revision.
    Withdrawn updates cannot be edited."""
    forget_pages()  # anonymous pages show this
    if actor is not None:
        require_org_editor(actor, update.organisation_id)
    _refuse_if_withdrawn(update)
    before = snapshot(update)
    cleaned = clean_update({**current_data(update), **data}, actor)
    if update.is_published:
        note = clean_text(change_note, label=_l("what changed in this edit (shown publicly)"),
                          max_length=REASON_MAX, required=True, field="change_note",
                          multiline=True)
    _apply(update, cleaned)
    db.session.flush()
    if update.is_published and snapshot(update) != before:
        number = 1 + max((revision.number for revision in update.revisions), default=0)
        update.revisions.insert(0, UpdateRevision(number=number, change_note=note,
                                                  previous=before,
                                                  author_id=getattr(actor, "id", None)))
        db.session.flush()
    audit.record("update.edited", actor=actor, organisation=update.organisation,
                 target=update, summary=f"Edited update {update.title}"[:300])
    return update


def publish_update(actor: Any, update: Update, when: datetime | None = None) -> Update:
    """Publish a draft and queue the followers' emails. The caller commits."""
    forget_pages()  # anonymous pages show this
    if actor is not None:
        require_org_editor(actor, update.organisation_id)
    _refuse_if_withdrawn(update)
    if update.is_published:
        raise UpdateLocked(_l("This update is already published."))
    update.status = UpdateStatus.PUBLISHED
    update.published_at = when or utcnow()
    db.session.flush()
    audit.record("update.published", actor=actor, organisation=update.organisation,
                 target=update, summary=f"Published update {update.title}"[:300])
    followers = follower_ids(update)
    if update.answers_priority_id is not None:
        priority_followers = priority_follower_ids(update.answers_priority_id)
        notifications.enqueue(NotificationKind.PRIORITY_UPDATE, update.id, priority_followers)
        # One email per update per person: the priority's email already tells them.
        followers = followers.where(Follow.user_id.not_in(priority_followers))
    notifications.enqueue(NotificationKind.NEW_UPDATE, update.id, followers)
    return update


def withdraw_update(actor: Any, update: Update, reason: str | None) -> Update:
    """Withdraw a published update with a public reason. It stays readable, marked as
    withdrawn, so the record stays accountable."""
    forget_pages()  # anonymous pages show this
    if actor is not None:
        require_org_editor(actor, update.organisation_id)
    _refuse_if_withdrawn(update)
    if not update.is_published:
        raise UpdateLocked(_l("Only a published update can be withdrawn. Delete the draft "
                              "instead."))
    update.withdrawal_reason = clean_text(reason, label=_l("the reason for withdrawing it"),
                                          max_length=REASON_MAX, required=True,
                                          field="reason", multiline=True)
    update.status = UpdateStatus.WITHDRAWN
    update.withdrawn_at = utcnow()
    db.session.flush()
    audit.record("update.withdrawn", actor=actor, organisation=update.organisation,
                 target=update, summary=f"Withdrew update {update.title}"[:300])
    return update


def delete_draft(actor: Any, update: Update) -> None:
    """Delete a draft that was never published."""
    require_org_editor(actor, update.organisation_id)
    if not update.is_draft:
        raise UpdateLocked(_l("Published updates are never deleted; withdraw it instead."))
    audit.record("update.deleted", actor=actor, organisation=update.organisation,
                 target=update, summary=f"Deleted draft {update.title}"[:300])
    db.session.delete(update)
    db.session.flush()


# Following ----------------------------------------------------------------------------

FOLLOW_MODELS: dict[FollowTarget, type] = {
    FollowTarget.ORGANISATION: Organisation,
    FollowTarget.DATASET: Dataset,
    FollowTarget.SERVICE: Service,
    FollowTarget.TOPIC: Term,
}


def follow_target(target_type: str, target_id: Any) -> tuple[FollowTarget, Any]:
    """The thing to follow, checked (``ValidationError`` if there is no such thing)."""
    try:
        kind = FollowTarget(target_type)
        identifier = int(target_id)
    except (TypeError, ValueError):
        raise ValidationError(_l("Choose something to follow.")) from None
    if not 0 < identifier <= MAX_ID:
        raise ValidationError(_l("Choose something to follow."))
    target = db.session.get(FOLLOW_MODELS[kind], identifier)
    if target is None or (kind == FollowTarget.TOPIC and not _public_topic(target)):
        raise ValidationError(_l("Choose something to follow."))
    return kind, target


PUBLIC_STATUSES = (UpdateStatus.PUBLISHED, UpdateStatus.WITHDRAWN)


def _published_use(term_id: Any, statuses: Sequence[UpdateStatus] = (UpdateStatus.PUBLISHED,)):
    """True when an update in one of ``statuses`` uses the term. Terms are made when a
    draft first uses them, so until then their names are as private as the draft."""
    return exists().where(update_terms.c.term_id == term_id,
                          update_terms.c.update_id == Update.id,
                          Update.status.in_(list(statuses)))


def _public_topic(term: Term) -> bool:
    return term.kind == TermKind.TOPIC and term.approved and bool(db.session.scalar(
        select(_published_use(term.id, PUBLIC_STATUSES))))


def is_following(user: Any, target_type: FollowTarget, target_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(db.session.scalar(select(exists().where(
        Follow.user_id == user.id, Follow.target_type == target_type,
        Follow.target_id == target_id))))


def follow(user: Any, target_type: str, target_id: Any) -> Follow:
    """Follow an organisation, dataset, service or topic (idempotent)."""
    kind, target = follow_target(target_type, target_id)
    existing = db.session.scalar(select(Follow).where(
        Follow.user_id == user.id, Follow.target_type == kind, Follow.target_id == target.id))
    if existing is not None:
        return existing
    item = Follow(user_id=user.id, target_type=kind, target_id=target.id)
    db.session.add(item)
    db.session.flush()
    return item


def unfollow(user: Any, target_type: str, target_id: Any) -> None:
    """Stop following (idempotent; works whatever has become of the thing followed)."""
    try:
        kind, identifier = FollowTarget(target_type), int(target_id)
    except (TypeError, ValueError):
        raise ValidationError(_l("Choose something to follow.")) from None
    existing = db.session.scalar(select(Follow).where(
        Follow.user_id == user.id, Follow.target_type == kind, Follow.target_id == identifier))
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()


def stop_following_token(user_id: int) -> str:
    """The signed token in a follower email's one-click unsubscribe link. It has no expiry:
    unsubscribe links must keep working in old emails."""
    return URLSafeSerializer(link_signing_keys(), salt="stop-following").dumps(user_id)


def stop_following_url(user_id: int) -> str:
    """The one-click unsubscribe link of a follower email (no request context needed)."""
    return external_url("updates.stop_following", token=stop_following_token(user_id))


def user_from_stop_following_token(token: str) -> User | None:
    """The person a stop-following token was made for, or None if it is forged or they
    have deleted their account."""
    try:
        user_id = URLSafeSerializer(link_signing_keys(), salt="stop-following").loads(token)
    except BadSignature:
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return None if user is None or user.is_deleted else user


def stop_following_everything(user: User, source: str) -> int:
    """Stop every follow (organisations, datasets, services, topics and research
    priorities), so no follower emails go to ``user``; queued ones are dropped at send
    time. Safe to repeat. Returns how many follows ended."""
    ended = 0
    for model in (Follow, PriorityFollower):
        ended += db.session.execute(delete(model).where(model.user_id == user.id)).rowcount
    audit.record("follows.stopped", actor=user, target=user, source=source, count=ended)
    return ended


def list_follows(user: Any) -> list[tuple[Follow, Any]]:
    """What a person follows, each with the followed thing."""
    follows = db.session.scalars(select(Follow).where(Follow.user_id == user.id)
                                 .order_by(Follow.created_at)).all()
    result = []
    for kind, model in FOLLOW_MODELS.items():
        ids = [f.target_id for f in follows if f.target_type == kind]
        if ids:
            statement = select(model).where(model.id.in_(ids))
            if kind == FollowTarget.TOPIC:  # only tags a public update carries
                statement = statement.where(_published_use(Term.id, PUBLIC_STATUSES))
            targets = {t.id: t for t in db.session.scalars(statement)}
            result += [(f, targets[f.target_id]) for f in follows
                       if f.target_type == kind and f.target_id in targets]
    return result


def follower_ids(update: Update) -> Select:
    """The ids of everyone following the update's organisation, one of its datasets or
    services, or one of its topics (a person following several appears more than once)."""
    pairs = [(FollowTarget.ORGANISATION, [update.organisation_id]),
             (FollowTarget.DATASET, [d.id for d in update.datasets]),
             (FollowTarget.SERVICE, [s.id for s in update.services]),
             (FollowTarget.TOPIC, [t.id for t in update.topics])]
    conditions = [(Follow.target_type == kind) & Follow.target_id.in_(ids)
                  for kind, ids in pairs if ids]
    return select(Follow.user_id).where(or_(*conditions))
