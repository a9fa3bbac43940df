"""What each edit of a published update changed, field by field, for its public history.

A revision keeps a snapshot of the update as it was *before* that edit, so the state
after an edit is the next newer revision's snapshot, or the update as it is now. Text
fields are compared word by word; lists (datasets, topics, links) item by item.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from feedback.extensions import db
from feedback.organisations.models import Dataset, Service
from feedback.updates.models import (
    KIND_LABELS,
    OPT_OUT_LABELS,
    OptOutApplied,
    Update,
    UpdateKind,
    UpdateRevision,
)
from feedback.updates.services import snapshot

# The fields a reader sees, in page order, with the labels the editor's form uses.
FIELD_LABELS = {
    "title": _l("Title"),
    "summary": _l("Summary"),
    "body": _l("The full story"),
    "kind": _l("What kind of update is this?"),
    "what_changed": _l("What changed"),
    "who_benefits": _l("Who benefits"),
    "datasets": _l("Datasets used"),
    "services": _l("Services affected"),
    "topics": _l("Topics"),
    "areas": _l("Areas"),
    "community_tags": _l("Who this is for"),
    "evidence_links": _l("Evidence links"),
    "purpose": _l("Purpose of the data use"),
    "legal_basis": _l("Legal basis"),
    "opt_out_applied": _l("National data opt-outs applied"),
    "content_checked_on": _l("Content checked"),
    "next_check_due": _l("Next check due (optional)"),
}
LIST_FIELDS = ("datasets", "services", "topics", "areas", "community_tags", "evidence_links")
_WORDS = re.compile(r"\S+\s*|\s+")  # a word with the spaces after it


@dataclass(frozen=True)
class Piece:
    """A run of a changed field: ``kind`` is "same", "removed" or "added"."""

    kind: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: Any
    pieces: list[Piece]


@dataclass(frozen=True)
class RevisionChanges:
    revision: UpdateRevision
    changes: list[FieldChange]


def word_diff(before: str, after: str) -> list[Piece]:
    """``before`` → ``after`` as runs of kept, removed and added words (spaces kept)."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            pieces.append(Piece("same", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", "".join(old[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("added", "".join(new[j1:j2])))
    return pieces


def list_diff(before: list[str], after: list[str]) -> list[Piece]:
    """Items kept, removed and added, each once, in the order the reader knows them."""
    kept = [item for item in after if item in before]
    return ([Piece("same", item) for item in kept]
            + [Piece("removed", item) for item in before if item not in after]
            + [Piece("added", item) for item in after if item not in before])


def _catalogue_names(snapshots: list[dict[str, Any]]) -> dict[str, dict[int, str]]:
    """Dataset and service names for every id in ``snapshots``: two queries in all."""
    names: dict[str, dict[int, str]] = {}
    for field, model in (("datasets", Dataset), ("services", Service)):
        ids = {item for data in snapshots for item in data.get(field) or []}
        rows = db.session.execute(select(model.id, model.name).where(model.id.in_(ids))) \
            .all() if ids else []
        names[field] = {row.id: row.name for row in rows}
    return names


def _display(name: str, value: Any, names: dict[str, dict[int, str]]) -> str | list[str]:
    if name in ("datasets", "services"):
        return [names[name].get(item, "#" + str(item)) for item in value or []]
    if name == "evidence_links":
        return [f"{link['title']} ({link['url']})" for link in value or []]
    if name in LIST_FIELDS:
        return list(value or [])
    if name == "kind" and value:
        return str(KIND_LABELS[UpdateKind(value)])
    if name == "opt_out_applied" and value:
        return str(OPT_OUT_LABELS[OptOutApplied(value)])
    return "" if value is None else str(value)


def revision_history(update: Update) -> list[RevisionChanges]:
    """Each revision of ``update``, newest first, with the fields its edit changed."""
    revisions = sorted(update.revisions, key=lambda revision: revision.number, reverse=True)
    after = snapshot(update)
    names = _catalogue_names([after, *(revision.previous for revision in revisions)])
    history = []
    for revision in revisions:
        before = revision.previous or {}
        changes = []
        for name, label in FIELD_LABELS.items():
            old = _display(name, before.get(name), names)
            new = _display(name, after.get(name), names)
            if old == new:
                continue
            pieces = list_diff(old, new) if name in LIST_FIELDS else word_diff(old, new)
            changes.append(FieldChange(name, label, pieces))
        history.append(RevisionChanges(revision, changes))
        after = before
    return history
