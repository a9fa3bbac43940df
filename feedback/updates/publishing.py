"""Writing updates: create, edit, publish, withdraw and delete drafts. Publishing
queues the followers' notifications in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from feedback.accounts.permissions import require_org_editor
from feedback.audit import services as audit
from feedback.core.caching import forget_pages
from feedback.core.models import utcnow
from feedback.core.validation import clean_text, slugify
from feedback.extensions import db
from feedback.notifications import services as notifications
from feedback.notifications.models import NotificationKind
from feedback.organisations.models import Organisation
from feedback.priorities.services import follower_ids as priority_follower_ids
from feedback.updates.follows import follower_ids
from feedback.updates.models import (
    REASON_MAX,
    EvidenceLink,
    Follow,
    Update,
    UpdateRevision,
    UpdateStatus,
)
from feedback.updates.queries import TERM_FIELDS, TEXT_FIELDS, UpdateLocked
from feedback.updates.validation import clean_update


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
