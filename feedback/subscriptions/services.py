"""Subscribing, confirming, managing preferences, unsubscribing, and partner contacts.

Services ``flush()``; the request, command or job commits.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, exists, func, select, update

from feedback.accounts.permissions import require_org_editor
from feedback.audit import services as audit
from feedback.core.languages import enabled_languages, get_language
from feedback.core.mail import send_template_email
from feedback.core.models import utcnow
from feedback.core.tokens import hash_token, new_token
from feedback.core.urls import external_url
from feedback.core.validation import ValidationError, clean_email, clean_phone, clean_text
from feedback.extensions import db
from feedback.subscriptions.models import (
    INTRO_MAX,
    NAME_MAX,
    Audience,
    Cadence,
    Channel,
    ConsentAction,
    ConsentRecord,
    Subscriber,
    SubscriberStatus,
    Suppression,
)

# Bump when the words people agree to on the sign-up page change; the ledger keeps it.
WORDING_VERSION = "2026-11-v1"
UNCONFIRMED_DAYS = 7
CSV_MAX_ROWS = 20_000


class LinkProblem(Exception):
    """A confirmation or signed link that cannot be used."""


# Signed links ------------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="subscriber-link")


def signed_token(subscriber_id: int) -> str:
    """A link token naming one subscriber. It never expires, so old emails can always
    unsubscribe; it carries only an id, never an address."""
    return _serializer().dumps(subscriber_id)


def subscriber_from_token(token: str) -> Subscriber:
    try:
        subscriber_id = _serializer().loads(token)
    except BadSignature:
        raise LinkProblem("invalid") from None
    subscriber = db.session.get(Subscriber, subscriber_id) if isinstance(subscriber_id,
                                                                          int) else None
    if subscriber is None:
        raise LinkProblem("invalid")
    return subscriber


def links_for(subscriber_id: int) -> dict[str, str]:
    """The signed links one recipient's message carries (no request context needed)."""
    token = signed_token(subscriber_id)
    return {
        "unsubscribe": external_url("subscriptions.unsubscribe", token=token),
        "manage": external_url("subscriptions.manage", token=token),
    }


# Audiences ---------------------------------------------------------------------------

def _normalise(values: Sequence[Any] | None) -> list:
    return sorted({v for v in (values or []) if v not in (None, "")})


def platform_audience(cadence: Cadence, topics: Sequence[str] = (),
                      areas: Sequence[str] = (),
                      organisation_ids: Sequence[int] = ()) -> Audience:
    """The platform digest for this choice of cadence and filters (made on first use)."""
    topics, areas = _normalise(topics), _normalise(areas)
    organisation_ids = _normalise(int(i) for i in organisation_ids)
    key = "|".join([cadence.value, ",".join(topics), ",".join(areas),
                    ",".join(str(i) for i in organisation_ids)])
    audience = db.session.scalar(select(Audience).where(Audience.filter_key == key))
    if audience is None:
        audience = Audience(
            # Stored data in the source language; translated like any other text.
            name="Weekly digest" if cadence == Cadence.WEEKLY else "Monthly digest",
            cadence=cadence, topics=topics, areas=areas, organisation_ids=organisation_ids,
            languages=[], filter_key=key, sender_name=current_app.config["SERVICE_NAME"])
        db.session.add(audience)
        db.session.flush()
    return audience


def audience_languages(audience: Audience) -> list[str]:
    """The language codes an audience is sent in (all enabled ones for platform digests)."""
    enabled = [language.code for language in enabled_languages()]
    if not audience.languages:
        return enabled
    return [code for code in audience.languages if code in enabled] or enabled[:1]


def recipient_language(audience: Audience, wanted: str) -> str:
    languages = audience_languages(audience)
    return wanted if wanted in languages else languages[0]


# Suppression -------------------------------------------------------------------------

def is_suppressed(address: str) -> bool:
    """Whether ``address`` (an email address, or a phone number in E.164) is suppressed."""
    return bool(db.session.scalar(select(exists().where(
        Suppression.email == address.lower()))))


def suppress(address: str, reason: str) -> None:
    """Stop everything sent to one address on its own channel (a permanent failure or a
    complaint): an email address stops email, a phone number (E.164) stops text
    messages; neither stops the other. Safe to repeat."""
    if address and not is_suppressed(address):
        with db.session.begin_nested():
            db.session.add(Suppression(email=address.lower(), reason=reason[:200]))


def channel_address(channel: Channel, email: str, phone: str) -> str:
    """The address a message on ``channel`` goes to, the one a failure suppresses."""
    return phone if channel == Channel.SMS else email


# Public sign-up ----------------------------------------------------------------------

def _clean_language(code: str | None) -> str:
    language = get_language(code)
    if language is None:
        raise ValidationError(_("Choose a language from the list."), "language")
    return language.code


def _record(subscriber: Subscriber, action: ConsentAction, source: str, *,
            channel: Channel = Channel.EMAIL, basis: str = "", attested_by=None) -> None:
    db.session.add(ConsentRecord(
        subscriber=subscriber, action=action, channel=channel, source=source[:200],
        wording_version=WORDING_VERSION, basis=basis[:500],
        attested_by_id=getattr(attested_by, "id", None)))


def find_platform_subscriber(email: str) -> Subscriber | None:
    return db.session.scalar(
        select(Subscriber).join(Audience).where(Subscriber.email == email,
                                                Audience.organisation_id.is_(None)))


def subscribe(data: dict[str, Any], source: str) -> None:
    """Sign someone up to a platform digest, pending double opt-in.

    Whatever happens, the caller shows the same "check your email" page: a known address
    gets an email saying so (with its manage link) instead of a second sign-up."""
    email = clean_email(data.get("email"))
    language = _clean_language(data.get("language"))
    phone = clean_phone(data.get("phone"))
    try:
        cadence = Cadence(data.get("cadence") or "weekly")
    except ValueError:
        raise ValidationError(_("Choose how often you want to hear from us."),
                              "cadence") from None
    audience = platform_audience(cadence, data.get("topics") or [], data.get("areas") or [],
                                 [int(i) for i in data.get("organisation_ids") or []])
    existing = find_platform_subscriber(email)
    if existing is not None and existing.status == SubscriberStatus.CONFIRMED:
        send_template_email(email, _("You already get updates from %(service)s",
                                     service=current_app.config["SERVICE_NAME"]),
                            "subscription_known",
                            manage_url=links_for(existing.id)["manage"])
        return
    subscriber = existing or Subscriber(email=email)
    subscriber.audience = audience
    subscriber.language = language
    subscriber.phone = phone
    subscriber.status = SubscriberStatus.PENDING
    subscriber.unsubscribed_at = None
    if existing is None:
        db.session.add(subscriber)
    if subscriber.phone:
        _record(subscriber, ConsentAction.REQUESTED, source, channel=Channel.SMS)
    _send_confirmation(subscriber, source)


def _send_confirmation(subscriber: Subscriber, source: str, *, audience_name: str = "") -> None:
    token, token_hash = new_token()
    subscriber.confirm_token_hash = token_hash
    subscriber.created_at = utcnow()
    _record(subscriber, ConsentAction.REQUESTED, source)
    db.session.flush()
    send_template_email(
        subscriber.email,
        _("Confirm your subscription to %(service)s", service=current_app.config[
            "SERVICE_NAME"]),
        "subscription_confirm",
        link=external_url("subscriptions.confirm", token=token),
        audience_name=audience_name or subscriber.audience.name,
        days=UNCONFIRMED_DAYS,
    )


def pending_by_token(token: str) -> Subscriber:
    subscriber = db.session.scalar(select(Subscriber).where(
        Subscriber.confirm_token_hash == hash_token(token)))
    if subscriber is None or subscriber.status != SubscriberStatus.PENDING:
        raise LinkProblem("invalid")
    return subscriber


def confirm(token: str) -> Subscriber:
    """Complete double opt-in. The token works once."""
    subscriber = pending_by_token(token)
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = utcnow()
    subscriber.confirm_token_hash = None
    source = ("/subscribe" if subscriber.audience.is_platform
              else f"partner:{subscriber.audience.organisation.slug}")
    _record(subscriber, ConsentAction.CONFIRMED, source)
    if subscriber.phone:
        _record(subscriber, ConsentAction.CONFIRMED, source, channel=Channel.SMS)
    db.session.flush()
    return subscriber


def update_preferences(subscriber: Subscriber, data: dict[str, Any]) -> Subscriber:
    """Change language, name, cadence and filters through the signed link."""
    subscriber.language = _clean_language(data.get("language"))
    subscriber.name = clean_text(data.get("name"), label="your name", max_length=NAME_MAX,
                                 field="name")
    if subscriber.audience.is_platform:
        try:
            cadence = Cadence(data.get("cadence") or subscriber.audience.cadence)
        except ValueError:
            raise ValidationError(_("Choose how often you want to hear from us."),
                                  "cadence") from None
        subscriber.audience = platform_audience(
            cadence, data.get("topics") or [], data.get("areas") or [],
            [int(i) for i in data.get("organisation_ids") or []])
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED and data.get("resubscribe"):
        subscriber.status = SubscriberStatus.CONFIRMED
        subscriber.unsubscribed_at = None
    _record(subscriber, ConsentAction.PREFERENCES, "/subscriptions/manage")
    db.session.flush()
    return subscriber


def unsubscribe(subscriber: Subscriber, source: str) -> None:
    """Stop at once, including the rest of an edition that is sending. Safe to repeat."""
    from feedback.delivery.models import Delivery, DeliveryStatus

    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = utcnow()
        _record(subscriber, ConsentAction.UNSUBSCRIBED, source)
    db.session.execute(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber.id,
               Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, last_error="unsubscribed"))
    db.session.flush()


def purge_unconfirmed(now=None) -> int:
    """Delete sign-ups never confirmed within 7 days (and their ledger rows)."""
    cutoff = (now or utcnow()) - timedelta(days=UNCONFIRMED_DAYS)
    ids = db.session.scalars(select(Subscriber.id).where(
        Subscriber.status == SubscriberStatus.PENDING, Subscriber.created_at < cutoff)).all()
    if ids:
        db.session.execute(delete(ConsentRecord).where(ConsentRecord.subscriber_id.in_(ids)))
        db.session.execute(delete(Subscriber).where(Subscriber.id.in_(ids)))
    db.session.flush()
    return len(ids)


# Partner newsletters -----------------------------------------------------------------

def partner_audience(organisation_id: int) -> Audience | None:
    return db.session.scalar(select(Audience).where(Audience.organisation_id ==
                                                    organisation_id).order_by(Audience.id))


def save_partner_audience(user, organisation, data: dict[str, Any]) -> Audience:
    """Create or change a partner's newsletter settings."""
    require_org_editor(user, organisation.id)
    audience = partner_audience(organisation.id) or Audience(organisation_id=organisation.id)
    audience.name = clean_text(data.get("name"), label="a newsletter name",
                               max_length=NAME_MAX, required=True, field="name")
    audience.intro = clean_text(data.get("intro"), label="the introduction",
                                max_length=INTRO_MAX, field="intro", multiline=True)
    audience.outro = clean_text(data.get("outro"), label="the closing words",
                                max_length=INTRO_MAX, field="outro", multiline=True)
    audience.sender_name = clean_text(data.get("sender_name"), label="the sender name",
                                      max_length=NAME_MAX, field="sender_name")
    languages = [code for code in data.get("languages") or [] if get_language(code)]
    if not languages:
        raise ValidationError(_("Choose at least one language."), "languages")
    audience.languages = languages
    audience.topics = _normalise(data.get("topics"))
    audience.areas = _normalise(data.get("areas"))
    audience.organisation_ids = _normalise(int(i) for i in data.get("organisation_ids") or [])
    try:
        audience.cadence = Cadence(data.get("cadence") or "weekly")
        audience.send_weekday = int(data.get("send_weekday") or 0)
        audience.send_hour = int(data.get("send_hour") or 9)
    except ValueError:
        raise ValidationError(_("Choose when the newsletter goes out."), "cadence") from None
    if not (0 <= audience.send_weekday <= 6 and 0 <= audience.send_hour <= 23):
        raise ValidationError(_("Choose when the newsletter goes out."), "send_hour")
    audience.paused = bool(data.get("paused"))
    audience.send_when_empty = bool(data.get("send_when_empty"))
    audience.allow_machine_translation = bool(data.get("allow_machine_translation"))
    if audience.id is None:
        db.session.add(audience)
    db.session.flush()
    audit.record("newsletter.saved", actor=user, organisation=organisation, target=audience,
                 summary=f"Newsletter settings saved: {audience.name}")
    return audience


@dataclass
class ImportReport:
    added: int = 0
    already: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _add_contact(audience: Audience, email: str, name: str, language: str, *,
                 attested: bool, basis: str, user) -> bool:
    """Add one contact; False when the address is already on the list."""
    existing = db.session.scalar(select(Subscriber).where(
        Subscriber.audience_id == audience.id, Subscriber.email == email))
    if existing is not None:
        return False
    subscriber = Subscriber(audience=audience, email=email, name=name, language=language)
    db.session.add(subscriber)
    source = f"partner:{audience.organisation.slug}"
    if attested:
        subscriber.status = SubscriberStatus.CONFIRMED
        subscriber.confirmed_at = utcnow()
        _record(subscriber, ConsentAction.ATTESTED, source, basis=basis, attested_by=user)
        db.session.flush()
    else:
        _send_confirmation(subscriber, source, audience_name=audience.name)
    return True


def _clean_basis(attested: bool, basis: str | None) -> str:
    text = clean_text(basis, label="the consent basis", max_length=500, field="basis",
                      multiline=True)
    if attested and not text:
        raise ValidationError(_("Say how these people agreed to hear from you."), "basis")
    return text


def add_contact(user, audience: Audience, data: dict[str, Any]) -> bool:
    require_org_editor(user, audience.organisation_id)
    attested = bool(data.get("attested"))
    basis = _clean_basis(attested, data.get("basis"))
    email = clean_email(data.get("email"))
    name = clean_text(data.get("name"), label="a name", max_length=NAME_MAX, field="name")
    language = recipient_language(audience, _clean_language(data.get("language") or "en"))
    return _add_contact(audience, email, name, language, attested=attested, basis=basis,
                        user=user)


def import_contacts(user, audience: Audience, csv_text: str, *, attested: bool,
                    basis: str | None) -> ImportReport:
    """Import ``email,name,language`` rows (a header row is optional). Every bad row is
    reported with its line number and reason; good rows are added."""
    require_org_editor(user, audience.organisation_id)
    basis_text = _clean_basis(attested, basis)
    report = ImportReport()
    seen: set[str] = set()
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    if len(rows) > CSV_MAX_ROWS:
        raise ValidationError(_("Import at most %(n)s rows at a time.", n=f"{CSV_MAX_ROWS:,}"),
                              "file")
    for line, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if line == 1 and cells[0].lower() in {"email", "email address", "e-mail"}:
            continue
        if len(cells) > 3:
            report.errors.append((line, _("Too many columns: expected email, name, language.")))
            continue
        email, name, language = [*cells, "", ""][:3]
        try:
            email = clean_email(email)
            name = clean_text(name, label="the name", max_length=NAME_MAX)
            code = get_language(language or audience_languages(audience)[0])
            if code is None:
                raise ValidationError(_("Unknown language “%(code)s”.", code=language))
        except ValidationError as error:
            report.errors.append((line, error.message))
            continue
        if email in seen:
            report.errors.append((line, _("This address appears earlier in the file.")))
            continue
        seen.add(email)
        if _add_contact(audience, email, name, recipient_language(audience, code.code),
                        attested=attested, basis=basis_text, user=user):
            report.added += 1
        else:
            report.already += 1
    audit.record("newsletter.contacts_imported", actor=user, organisation=audience.organisation,
                 target=audience, summary=f"Imported {report.added} contacts "
                 f"({len(report.errors)} rows with problems)", attested=attested)
    return report


def count_subscribers(audience_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Subscriber.status, func.count()).where(
        Subscriber.audience_id == audience_id).group_by(Subscriber.status)).all()
    counts = {status.value: 0 for status in SubscriberStatus}
    counts.update({status.value: n for status, n in rows})
    return counts


def consent_history(subscriber_id: int) -> Sequence[ConsentRecord]:
    return db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.subscriber_id == subscriber_id).order_by(ConsentRecord.id)).all()

