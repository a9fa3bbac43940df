"""Editions: when they are due, creating them once per (audience, period), rendering each
language once, previews, test sends and the archive."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from feedback.accounts.permissions import require_org_editor
from feedback.audit import services as audit
from feedback.core.exceptions import NotFound, found
from feedback.core.models import utcnow
from feedback.core.uktime import to_uk, uk_to_utc
from feedback.digests.models import Edition, EditionStatus, EditionVersion
from feedback.digests.rendering import render_version
from feedback.digests.selection import select_items
from feedback.extensions import db
from feedback.subscriptions.models import Audience, Cadence, Subscriber, SubscriberStatus
from feedback.subscriptions.services import audience_languages

log = logging.getLogger(__name__)


class EditionFrozen(Exception):
    """The edition has started sending and can no longer change."""


def current_period(audience: Audience, now: datetime) -> tuple[str, datetime]:
    """The period ``now`` falls in for this audience, and when its edition is due (UTC).
    The send day and hour are UK local time (``feedback.core.uktime``), so the edition
    goes at the hour people chose on both sides of a clock change."""
    local = to_uk(now)
    if audience.cadence == Cadence.MONTHLY:
        start = local.replace(day=1, hour=audience.send_hour, minute=0, second=0,
                              microsecond=0, tzinfo=None)
        return local.strftime("%Y-%m"), uk_to_utc(start)
    year, week, weekday = local.isocalendar()
    monday = (local.replace(tzinfo=None) - timedelta(days=weekday - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0)
    due = monday + timedelta(days=audience.send_weekday, hours=audience.send_hour)
    return f"{year}-W{week:02d}", uk_to_utc(due)


def next_due(audience: Audience, now: datetime | None = None) -> datetime:
    """When the audience's next edition is due (UTC), from ``now`` on."""
    now = now or utcnow()
    _period, due = current_period(audience, now)
    if due > now:
        return due
    if audience.cadence == Cadence.MONTHLY:
        local = to_uk(now)
        later = (local.replace(day=1) + timedelta(days=32)).replace(day=1)
    else:
        later = now + timedelta(days=7)
    return current_period(audience, later)[1]


def _default_since(audience: Audience, until: datetime) -> datetime:
    return until - timedelta(days=31 if audience.cadence == Cadence.MONTHLY else 7)


def _previous_until(audience_id: int, period: str) -> datetime | None:
    return db.session.scalar(select(func.max(Edition.until)).where(
        Edition.audience_id == audience_id, Edition.period < period,
        Edition.status != EditionStatus.DRAFT))


def get_edition(audience_id: int, period: str) -> Edition | None:
    return db.session.scalar(select(Edition).where(Edition.audience_id == audience_id,
                                                   Edition.period == period))


def prepare_edition(audience_id: int, period: str, now: datetime | None = None) -> Edition:
    """The draft edition for (audience, period): created once, even when two schedulers
    or a scheduler and a partner ask at the same moment (a unique constraint decides)."""
    now = now or utcnow()
    edition = get_edition(audience_id, period)
    if edition is None:
        audience = db.session.get(Audience, audience_id)
        try:
            with db.session.begin_nested():
                edition = Edition(audience=audience, period=period, until=now)
                db.session.add(edition)
        except IntegrityError:
            edition = get_edition(audience_id, period)
            if edition is None:
                raise
            return edition
        refresh_edition(edition, now)
    return edition


def refresh_edition(edition: Edition, now: datetime | None = None) -> Edition:
    """Select the items again and render every language once. Only drafts can change."""
    if edition.is_frozen:
        raise EditionFrozen(edition.id)
    audience = edition.audience
    edition.until = now or utcnow()
    edition.since = (_previous_until(audience.id, edition.period)
                     or _default_since(audience, edition.until))
    edition.items = select_items(audience, edition.since, edition.until)
    render_all(edition)
    return edition


def render_all(edition: Edition) -> int:
    """Render each of the audience's languages once; returns how many were rendered."""
    languages = audience_languages(edition.audience)
    for version in list(edition.versions):
        if version.language not in languages:
            edition.versions.remove(version)
    for code in languages:
        rendered = render_version(edition.audience, edition, edition.items, code)
        version = edition.version(code) or EditionVersion(language=code)
        version.subject = rendered.subject[:300]
        version.html = rendered.html
        version.text = rendered.text
        version.greetings = rendered.greetings
        version.missing_translations = rendered.missing_translations
        version.rendered_at = utcnow()
        if version.id is None:
            edition.versions.append(version)
    db.session.flush()
    return len(languages)


def has_recipients(audience_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Subscriber.audience_id == audience_id,
        Subscriber.status == SubscriberStatus.CONFIRMED))))


def create_and_start(audience_id: int, period: str, now: datetime | None = None) -> Edition:
    """Create (or reuse) the edition and start sending it, in the caller's transaction.
    An edition with nothing in it is skipped unless the audience asks otherwise."""
    from feedback.digests.sending import start_edition

    edition = prepare_edition(audience_id, period, now)
    if edition.status != EditionStatus.DRAFT:
        return edition
    if not edition.items and not edition.audience.send_when_empty:
        edition.status = EditionStatus.SKIPPED
        edition.frozen_at = utcnow()
        db.session.flush()
        return edition
    start_edition(edition)
    return edition


def due_audiences(now: datetime) -> list[tuple[int, str]]:
    """(audience id, period) for every audience whose edition is due and not made yet."""
    audiences = db.session.scalars(select(Audience).where(Audience.paused.is_(False))).all()
    due: list[tuple[int, str]] = []
    for audience in audiences:
        period, due_at = current_period(audience, now)
        if now < due_at or not has_recipients(audience.id):
            continue
        edition = get_edition(audience.id, period)
        if edition is None or edition.status == EditionStatus.DRAFT:
            due.append((audience.id, period))
    return due


# Partner views ------------------------------------------------------------------------

def prepare_next(user, audience: Audience, now: datetime | None = None) -> Edition:
    """A partner prepares (or refreshes) the draft for the current period to preview."""
    require_org_editor(user, audience.organisation_id)
    now = now or utcnow()
    period, _due = current_period(audience, now)
    edition = prepare_edition(audience.id, period, now)
    if not edition.is_frozen:
        refresh_edition(edition, now)
    return edition


def record_test_send(user, edition: Edition) -> None:
    """Audit a test send of ``edition`` to the editor's own address."""
    audit.record("newsletter.test_sent", actor=user, organisation=edition.audience.organisation,
                 target=edition, summary="Sent a test of every language to themselves",
                 languages=sorted(v.language for v in edition.versions))


def send_now(user, edition: Edition) -> Edition:
    """A partner sends a previewed draft straight away."""
    from feedback.digests.sending import start_edition

    require_org_editor(user, edition.audience.organisation_id)
    if edition.is_frozen:
        raise EditionFrozen(edition.id)
    start_edition(edition)
    audit.record("newsletter.sent", actor=user, organisation=edition.audience.organisation,
                 target=edition, summary=f"Edition {edition.period} started sending")
    return edition


def list_editions(audience_id: int, public_only: bool = False) -> Sequence[Edition]:
    statement = select(Edition).where(Edition.audience_id == audience_id)
    if public_only:
        statement = statement.where(Edition.status.in_(
            [EditionStatus.SENDING, EditionStatus.PAUSED, EditionStatus.SENT]))
    return db.session.scalars(statement.order_by(Edition.period.desc())).all()


def public_edition(edition_id: int) -> Edition:
    edition = db.session.get(Edition, edition_id)
    if edition is None or edition.status not in (EditionStatus.SENDING, EditionStatus.PAUSED,
                                                 EditionStatus.SENT):
        raise NotFound
    return edition


def edition_for_editor(user, edition_id: int) -> Edition:
    edition = found(db.session.get(Edition, edition_id))
    if edition.audience.organisation_id is None:
        raise NotFound
    require_org_editor(user, edition.audience.organisation_id)
    return edition
