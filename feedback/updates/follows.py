"""Following organisations, datasets, services, topics and updates, and the signed
link that stops all of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, delete, exists, or_, select

from feedback.accounts.models import User
from feedback.audit import services as audit
from feedback.core.keys import link_signing_keys
from feedback.core.urls import external_url
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.organisations.models import Dataset, Organisation, Service
from feedback.priorities.models import PriorityFollower
from feedback.updates.models import (
    MAX_ID,
    Follow,
    FollowTarget,
    Term,
    TermKind,
    Update,
    UpdateStatus,
    update_terms,
)

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
