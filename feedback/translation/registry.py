"""The registry of translatable fields, and queueing their segments when content is saved.

A domain registers its model's fields once (``register_translatable(Update, title="text",
body="markdown")``). Whenever such an object is added or its registered fields change,
every segment not yet in the translation memory is queued for every target language,
in the same flush. Unchanged segments already have rows, so an edit queues only what
changed.

``owner(obj)`` names the organisations whose content it is (their translators review
it); none means platform content. Owners are recorded per source segment in the same
flush, so the review queue and approvals can be limited to a translator's organisation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from feedback.core.languages import source_language, target_languages
from feedback.translation.models import SegmentOwner, TranslationSegment
from feedback.translation.segments import KINDS, Segment, split


@dataclass
class Translatable:
    fields: dict[str, str]
    when: Callable[[Any], bool] | None = None
    owner: Callable[[Any], Iterable[int | None]] | None = None

    def owners(self, obj: Any) -> set[int | None]:
        """The owning organisations' ids; ``{None}`` for platform content."""
        found = set(self.owner(obj)) if self.owner is not None else set()
        return found or {None}


_REGISTRY: dict[type, Translatable] = {}


def register_translatable(model: type, *, when: Callable[[Any], bool] | None = None,
                          owner: Callable[[Any], Iterable[int | None]] | None = None,
                          **fields: str) -> None:
    """Translate these fields of ``model`` (each ``"text"`` or ``"markdown"``).
    ``when(obj)`` may limit it, for example to published content; ``owner(obj)`` gives
    the ids of the organisations whose content it is (none: platform content)."""
    for name, kind in fields.items():
        if kind not in KINDS:
            raise ValueError(f"{model.__name__}.{name}: kind must be one of {KINDS}")
    _REGISTRY[model] = Translatable(dict(fields), when, owner)


def registration(obj_or_model: Any) -> Translatable | None:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return _REGISTRY.get(model)


def translatable_fields(obj_or_model: Any) -> dict[str, str]:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    entry = _REGISTRY.get(model)
    return dict(entry.fields) if entry else {}


def field_kind(obj: Any, name: str) -> str:
    """How ``obj``'s field ``name`` is written (``text`` or ``markdown``; ``text`` when it
    is not registered), without copying the registry entry."""
    entry = _REGISTRY.get(type(obj))
    return entry.fields.get(name, "text") if entry else "text"


def registered_models() -> list[type]:
    return list(_REGISTRY)


def segments_of(obj: Any) -> list[Segment]:
    """Every segment of ``obj``'s registered fields."""
    found: list[Segment] = []
    for name, kind in translatable_fields(obj).items():
        found.extend(split(getattr(obj, name, None), kind))
    return found


def queue_segments(session: Session, segments: Iterable[Segment]) -> int:
    """Add a pending memory row for each segment and target language that has none.
    Returns how many rows were added. The caller's flush (or commit) saves them."""
    unique = {segment.hash: segment for segment in segments}
    if not unique:
        return 0
    source = source_language().code
    targets = [language.code for language in target_languages()]
    if not targets:
        return 0
    queued = session.info.setdefault("translation_queued", set())
    wanted = {(digest, target) for digest in unique for target in targets} - queued
    if not wanted:
        return 0
    existing: set[tuple[str, str]] = set()
    hashes = list({digest for digest, _ in wanted})
    with session.no_autoflush:
        for start in range(0, len(hashes), 500):
            chunk = hashes[start:start + 500]
            existing.update(session.execute(
                select(TranslationSegment.source_hash, TranslationSegment.target_language)
                .where(TranslationSegment.source_hash.in_(chunk),
                       TranslationSegment.source_language == source)))
    added = 0
    for digest, target in sorted(wanted - existing):
        segment = unique[digest]
        session.add(TranslationSegment(source_hash=digest, source_language=source,
                                       target_language=target, source_text=segment.text,
                                       text_format=segment.format))
        added += 1
    queued.update(wanted)
    return added


def record_owners(session: Session, owned: Iterable[tuple[str, int | None]]) -> int:
    """Record that each (source hash, organisation id or None) pair is owned, where not
    yet recorded: one SELECT per 500 hashes, and one INSERT ... ON CONFLICT DO NOTHING."""
    wanted = set(owned) - session.info.setdefault("translation_owned", set())
    if not wanted:
        return 0
    hashes = sorted({digest for digest, _ in wanted})
    existing: set[tuple[str, int | None]] = set()
    with session.no_autoflush:
        for start in range(0, len(hashes), 500):
            existing.update(session.execute(
                select(SegmentOwner.source_hash, SegmentOwner.organisation_id)
                .where(SegmentOwner.source_hash.in_(hashes[start:start + 500]))))
    added = sorted(wanted - existing, key=lambda pair: (pair[0], pair[1] or 0))
    if added:
        # Two requests may own the same new segment at once: the second insert is a no-op.
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        for start in range(0, len(added), 500):
            session.execute(dialect.insert(SegmentOwner).values(
                [{"source_hash": digest, "organisation_id": organisation_id}
                 for digest, organisation_id in added[start:start + 500]])
                .on_conflict_do_nothing())
    session.info["translation_owned"].update(wanted)
    return len(added)


def owned_segments(obj: Any) -> list[tuple[Segment, set[int | None]]]:
    entry = registration(obj)
    if entry is None:
        return []
    owners = entry.owners(obj)
    return [(segment, owners) for segment in segments_of(obj)]


def _changed(obj: Any, names: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _queue_on_flush(session: Session, flush_context, instances) -> None:
    if not _REGISTRY:
        return
    segments: list[Segment] = []
    to_own = session.info.setdefault("translation_to_own", [])
    with session.no_autoflush:
        for obj in list(session.new) + list(session.dirty):
            entry = _REGISTRY.get(type(obj))
            if entry is None or (entry.when is not None and not entry.when(obj)):
                continue
            if obj in session.new or _changed(obj, entry.fields) or (
                    entry.when is not None and _changed_any(obj)):
                found = segments_of(obj)
                segments.extend(found)
                if found:
                    to_own.append((obj, entry, found))
    if segments:
        queue_segments(session, segments)


def _own_after_flush(session: Session, flush_context) -> None:
    # New objects have their ids (and so their owners) only now.
    to_own = session.info.pop("translation_to_own", None)
    if not to_own:
        return
    owned: set[tuple[str, int | None]] = set()
    with session.no_autoflush:
        for obj, entry, found in to_own:
            owners = entry.owners(obj)
            owned.update((segment.hash, owner) for segment in found for owner in owners)
    record_owners(session, owned)


def _changed_any(obj: Any) -> bool:
    # A ``when`` condition (say, publishing) may have just become true.
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs)


def _forget_queued(session: Session, *args) -> None:
    session.info.pop("translation_queued", None)
    session.info.pop("translation_owned", None)
    session.info.pop("translation_to_own", None)


def record_all_owners(session: Session) -> int:
    """Record the owners of every registered object's segments (for content saved before
    owners were recorded). Returns how many owner rows were added."""
    added = 0
    for model in registered_models():
        entry = _REGISTRY[model]
        for obj in session.scalars(select(model)).all():
            if entry.when is not None and not entry.when(obj):
                continue
            owners = entry.owners(obj)
            added += record_owners(session, {(segment.hash, owner)
                                             for segment in segments_of(obj)
                                             for owner in owners})
    session.flush()
    return added


def init_queueing() -> None:
    """Queue translations on every flush (called once by ``create_app``)."""
    if not event.contains(Session, "before_flush", _queue_on_flush):
        event.listen(Session, "before_flush", _queue_on_flush)
        event.listen(Session, "after_flush_postexec", _own_after_flush)
        event.listen(Session, "after_commit", _forget_queued)
        event.listen(Session, "after_rollback", _forget_queued)


