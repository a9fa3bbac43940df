"""Subscribing, confirming, managing preferences, unsubscribing, and partner contacts.

Services ``flush()``; the request, command or job commits.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from sqlalchemy import and_, delete, exists, func, or_, select, update

from feedback.accounts.permissions import require_org_editor
from feedback.audit import services as audit
from feedback.core.addresses import address_hash, normalise_address
from feedback.core.keys import link_signing_keys
from feedback.core.languages import enabled_languages, get_language
from feedback.core.mail import send_template_email_after_commit
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
    Confirmation,
    ConsentAction,
    ConsentRecord,
    ContactImport,
    ImportStatus,
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
    return URLSafeSerializer(link_signing_keys(), salt="subscriber-link")


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


def links_maker() -> Callable[[int], dict[str, str]]:
    """``links_for`` for many recipients (a delivery worker): the signer and the two
    addresses are made once, and each recipient's token is put into them. Tokens are
    URL-safe, so the links are the ones ``links_for`` builds."""
    serializer = _serializer()
    marker = "0token0"
    unsubscribe = external_url("subscriptions.unsubscribe", token=marker).split(marker)
    manage = external_url("subscriptions.manage", token=marker).split(marker)
    if len(unsubscribe) != 2 or len(manage) != 2:  # BASE_URL itself holds the marker
        return links_for

    signer = serializer.make_signer(serializer.salt)

    def links(subscriber_id: int) -> dict[str, str]:
        # serializer.dumps without trying to compress a few digits (never shorter).
        token = signer.sign(base64_encode(str(int(subscriber_id)))).decode("ascii")
        return {"unsubscribe": token.join(unsubscribe), "manage": token.join(manage)}

    return links


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


# The names platform_audience gives its digests (stored in English), and how to say them.
PLATFORM_DIGEST_NAMES = {"Weekly digest": _l("Weekly digest"),
                         "Monthly digest": _l("Monthly digest")}


def audience_title(audience: Audience) -> str:
    """The audience's name for readers: a name the platform gave its digest in the
    current language; any other (a partner's newsletter) as it was written (content,
    translated like any other)."""
    if audience.is_platform and audience.name in PLATFORM_DIGEST_NAMES:
        return str(PLATFORM_DIGEST_NAMES[audience.name])
    return audience.name


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
        Suppression.address_hash == address_hash(address)))))


# The suppression reason of a number that replied STOP (``feedback.subscriptions.sms``).
STOP_REASON = "replied STOP"


def stopped_by_reply(phone: str) -> bool:
    """Whether this number replied STOP to our text messages (and has not signed up
    again itself since)."""
    return bool(phone) and bool(db.session.scalar(select(exists().where(
        Suppression.address_hash == address_hash(phone),
        Suppression.reason == STOP_REASON))))


def stopped_numbers(phones: list[str]) -> set[str]:
    """Those of ``phones`` that replied STOP, in one query."""
    by_hash = {address_hash(phone): phone for phone in phones if phone}
    if not by_hash:
        return set()
    hashes, found = list(by_hash), set()
    for start in range(0, len(hashes), 500):
        found.update(db.session.scalars(select(Suppression.address_hash).where(
            Suppression.address_hash.in_(hashes[start:start + 500]),
            Suppression.reason == STOP_REASON)))
    return {by_hash[digest] for digest in found}


def suppress(address: str, reason: str) -> None:
    """Stop everything sent to one address on its own channel (a permanent failure or a
    complaint): an email address stops email, a phone number (E.164) stops text
    messages; neither stops the other. Safe to repeat. Only the keyed hash of the
    address is kept."""
    if address and not is_suppressed(address):
        with db.session.begin_nested():
            db.session.add(Suppression(address_hash=address_hash(address),
                                       reason=reason[:200]))


def channel_address(channel: Channel, email: str, phone: str) -> str:
    """The address a message on ``channel`` goes to, the one a failure suppresses."""
    return phone if channel == Channel.SMS else email


# Public sign-up ----------------------------------------------------------------------

def _clean_language(code: str | None) -> str:
    language = get_language(code)
    if language is None:
        raise ValidationError(_("Choose a language from the list."), "language")
    return language.code


def record_consent(subscriber: Subscriber, action: ConsentAction, source: str, *,
                   channel: Channel = Channel.EMAIL, basis: str = "",
                   attested_by=None) -> None:
    """Add an entry to the consent ledger (the caller flushes)."""
    db.session.add(ConsentRecord(
        subscriber=subscriber, action=action, channel=channel, source=source[:200],
        wording_version=WORDING_VERSION, basis=basis[:500],
        attested_by_id=getattr(attested_by, "id", None)))


def find_platform_subscriber(email: str, phone: str = "") -> Subscriber | None:
    """A platform subscriber by email address, or (with no address) by mobile number."""
    match = Subscriber.email == email if email else and_(Subscriber.email.is_(None),
                                                         Subscriber.phone == phone)
    return db.session.scalar(
        select(Subscriber).join(Audience).where(match, Audience.organisation_id.is_(None))
        .order_by(Subscriber.id).limit(1))


def clean_email_or_phone(data: dict[str, Any]) -> tuple[str, str]:
    """(email, phone): an email address, a mobile number or both. Someone with a mobile
    number needs no email address (they get text messages) where text messages can be
    sent; at least one of the two is required."""
    from feedback.subscriptions.sms import sms_enabled

    phone = clean_phone(data.get("phone"))
    if not (data.get("email") or "").strip():
        if not sms_enabled():
            return clean_email(data.get("email")), phone  # "Enter an email address"
        if not phone:
            raise ValidationError(_("Enter an email address or a mobile number."), "email")
        return "", phone
    return clean_email(data.get("email")), phone


def subscribe(data: dict[str, Any], source: str) -> None:
    """Sign someone up to a platform digest, pending double opt-in.

    Whatever happens, the caller shows the same "check your email" page: a known address
    gets an email saying so (with its manage link) instead of a second sign-up."""
    email, phone = clean_email_or_phone(data)
    language = _clean_language(data.get("language"))
    try:
        cadence = Cadence(data.get("cadence") or "weekly")
    except ValueError:
        raise ValidationError(_("Choose how often you want to hear from us."),
                              "cadence") from None
    audience = platform_audience(cadence, data.get("topics") or [], data.get("areas") or [],
                                 [int(i) for i in data.get("organisation_ids") or []])
    existing = find_platform_subscriber(email, phone)
    if existing is not None and existing.status == SubscriberStatus.CONFIRMED:
        if not email:  # already getting texts: nothing to send, nothing to reveal
            return
        with force_locale(_babel_locale(language)):  # the language chosen on the form
            send_template_email_after_commit(
                email, _("You already get updates from %(service)s",
                         service=current_app.config["SERVICE_NAME"]),
                "subscription_known", manage_url=links_for(existing.id)["manage"])
        return
    subscriber = existing or Subscriber(email=email or None)
    subscriber.audience = audience
    subscriber.language = language
    subscriber.phone = phone
    subscriber.status = SubscriberStatus.PENDING
    subscriber.unsubscribed_at = None
    if existing is None:
        db.session.add(subscriber)
    if subscriber.phone and subscriber.email:  # text-only: _send_confirmation records it
        record_consent(subscriber, ConsentAction.REQUESTED, source, channel=Channel.SMS)
    _send_confirmation(subscriber, source)


def _babel_locale(code: str | None) -> str:
    language = get_language(code) or get_language(current_app.config["DEFAULT_LANGUAGE"])
    return (language or enabled_languages()[0]).babel_locale


def confirmation_email(audience: Audience, link: str) -> tuple[str, str, dict[str, Any]]:
    """The confirmation email's subject, template and values, in the current locale. A
    partner's names the partner in the subject and the first line. Used by the request
    (one person subscribing) and by the delivery workers (contacts a partner imported)."""
    values = {"link": link, "audience_name": audience_title(audience),
              "days": UNCONFIRMED_DAYS}
    if not audience.is_platform and audience.organisation is not None:
        partner = audience.organisation.name
        return (_("%(partner)s: please confirm you want their updates", partner=partner),
                "subscription_confirm_partner", {**values, "partner": partner})
    return (_("Confirm your subscription to %(service)s",
              service=current_app.config["SERVICE_NAME"]), "subscription_confirm", values)


def confirmation_text(audience: Audience, link: str) -> str:
    """The confirmation text message, in the current locale: who it is from, and the
    link. Short, as every character costs."""
    sender = audience.organisation.name if not audience.is_platform and \
        audience.organisation is not None else current_app.config["SERVICE_NAME"]
    return _("%(sender)s: confirm you want our updates by text message: %(link)s "
             "Ignore this if you did not ask.", sender=sender, link=link)


def _send_confirmation(subscriber: Subscriber, source: str) -> None:
    """Ask the person to confirm, in the language they chose on the form (or the one the
    partner chose for them). Someone with no email address is sent a text message,
    through the outbox after the commit (``feedback.subscriptions.sending``)."""
    token, token_hash = new_token()
    subscriber.confirm_token_hash = token_hash
    subscriber.created_at = utcnow()
    if subscriber.sms_only:
        record_consent(subscriber, ConsentAction.REQUESTED, source, channel=Channel.SMS)
        db.session.flush()
        queue_confirmation(subscriber)
        return
    record_consent(subscriber, ConsentAction.REQUESTED, source)
    db.session.flush()
    with force_locale(_babel_locale(subscriber.language)):
        subject, template, values = confirmation_email(subscriber.audience,
                                                       confirm_url(token))
        send_template_email_after_commit(subscriber.email, subject, template, **values)


def queue_confirmation(subscriber: Subscriber) -> None:
    """Queue the confirmation message for the delivery workers (again, if one went
    before). The caller flushes."""
    from feedback.delivery.models import DeliveryStatus

    row = db.session.scalar(select(Confirmation).where(
        Confirmation.subscriber_id == subscriber.id)) if subscriber.id else None
    if row is None:
        db.session.add(Confirmation(subscriber=subscriber))
    else:
        row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, utcnow()
        row.claim_token, row.last_error = None, ""
    db.session.flush()


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
    if subscriber.email:
        record_consent(subscriber, ConsentAction.CONFIRMED, source)
    if subscriber.phone:
        record_consent(subscriber, ConsentAction.CONFIRMED, source, channel=Channel.SMS)
        if subscriber.audience.is_platform and stopped_by_reply(subscriber.phone):
            _lift_stop(subscriber, source)
    db.session.flush()
    return subscriber


def _lift_stop(subscriber: Subscriber, source: str) -> None:
    """The person signed up again on our own form after replying STOP, and confirmed
    from the text it sent them: texts to the number start again, and the ledger says
    so. A partner adding or importing the number never gets here (see
    ``check_not_stopped``)."""
    db.session.execute(delete(Suppression).where(
        Suppression.address_hash == address_hash(subscriber.phone),
        Suppression.reason == STOP_REASON))
    record_consent(subscriber, ConsentAction.CONFIRMED, source, channel=Channel.SMS,
                   basis="Signed up again after replying STOP; the STOP is lifted")


def check_not_stopped(email: str, phone: str) -> None:
    """A partner cannot add (or import, or say it already has consent for) someone with
    no email address whose number replied STOP: only the person can undo a STOP, by
    signing up again themselves. (An import checks its whole file with
    ``stopped_numbers``.)"""
    if not email and stopped_by_reply(phone):
        raise ValidationError(_stopped_message(), "phone")


def _stopped_message() -> str:
    return _("This number replied STOP to our text messages, so it cannot be added. The "
             "person can sign up again themselves if they want our texts.")


def update_preferences(subscriber: Subscriber, data: dict[str, Any]) -> Subscriber:
    """Change language, name, cadence and filters through the signed link."""
    subscriber.language = _clean_language(data.get("language"))
    subscriber.name = clean_text(data.get("name"), label=_l("your name"), max_length=NAME_MAX,
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
    record_consent(subscriber, ConsentAction.PREFERENCES, "/subscriptions/manage")
    db.session.flush()
    return subscriber


def unsubscribe(subscriber: Subscriber, source: str, *, channel: Channel | None = None) -> None:
    """Stop at once, including the rest of an edition that is sending. Safe to repeat.
    The ledger names the channel it came by (text messages for someone who only gets
    those)."""
    from feedback.delivery.models import DeliveryStatus
    from feedback.digests.models import Delivery

    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = utcnow()
        record_consent(subscriber, ConsentAction.UNSUBSCRIBED, source, channel=channel or (
            Channel.SMS if subscriber.sms_only else Channel.EMAIL))
    db.session.execute(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber.id,
               Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, last_error="unsubscribed"))
    db.session.flush()


def erase_subscriber(subscriber: Subscriber, source: str) -> None:
    """Erase one subscriber's address, name and phone. Someone still subscribed is
    unsubscribed first. The row and its consent ledger stay, pseudonymous: the ledger
    records get the keyed hash of the address, so a question about that address can
    still be answered. Safe to repeat."""
    if subscriber.is_erased:
        return
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        unsubscribe(subscriber, source)
    db.session.flush()
    db.session.execute(update(ConsentRecord).where(
        ConsentRecord.subscriber_id == subscriber.id).values(
        address_hash=address_hash(subscriber.address)))
    subscriber.email = None
    subscriber.name = ""
    subscriber.phone = ""
    subscriber.confirm_token_hash = None
    db.session.flush()


def erase_address(email: str, source: str) -> int:
    """Erase every subscription of ``email`` (on every audience). Returns how many."""
    rows = db.session.scalars(select(Subscriber).where(
        Subscriber.email == normalise_address(email))).all()
    for subscriber in rows:
        erase_subscriber(subscriber, source)
    return len(rows)


def erase_unsubscribed(now=None) -> int:
    """Erase the personal data of people who unsubscribed more than
    ``RETENTION_UNSUBSCRIBED_DAYS`` ago. Returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config[
        "RETENTION_UNSUBSCRIBED_DAYS"])
    rows = db.session.scalars(select(Subscriber).where(
        Subscriber.status == SubscriberStatus.UNSUBSCRIBED,
        or_(Subscriber.email.is_not(None), Subscriber.phone != ""),
        Subscriber.unsubscribed_at < cutoff)).all()
    for subscriber in rows:
        erase_subscriber(subscriber, "retention")
    return len(rows)


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


def save_partner_audience(user, organisation, data: dict[str, Any], *,
                          audience: Audience | None = None) -> Audience:
    """Create or change a partner's newsletter settings: those of ``audience`` (one of
    the partner's), else of its first audience. The send day and hour are UK time."""
    require_org_editor(user, organisation.id)
    if audience is not None and audience.organisation_id != organisation.id:
        raise ValidationError(_("Choose one of your audiences."), "name")
    audience = audience or partner_audience(organisation.id) or Audience(
        organisation_id=organisation.id)
    audience.name = clean_text(data.get("name"), label=_l("a newsletter name"),
                               max_length=NAME_MAX, required=True, field="name")
    if db.session.scalar(select(exists().where(
            Audience.organisation_id == organisation.id, Audience.name == audience.name,
            Audience.id != (audience.id or 0)))):
        raise ValidationError(_("You already have an audience with that name."), "name")
    audience.intro = clean_text(data.get("intro"), label=_l("the introduction"),
                                max_length=INTRO_MAX, field="intro", multiline=True)
    audience.outro = clean_text(data.get("outro"), label=_l("the closing words"),
                                max_length=INTRO_MAX, field="outro", multiline=True)
    audience.sender_name = clean_text(data.get("sender_name"), label=_l("the sender name"),
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


def _new_contact(audience: Audience, email: str, name: str, language: str, *,
                 attested: bool, basis: str, user, queue: bool, phone: str = "") -> Subscriber:
    """A contact not yet on the list, with its consent record (no flush). Someone who has
    not agreed yet is sent a confirmation email: with ``queue`` through the outbox (a
    ``Confirmation`` row the delivery workers send after the commit), else by the
    caller at once."""
    subscriber = Subscriber(audience=audience, email=email or None, name=name,
                            language=language, phone=phone)
    db.session.add(subscriber)
    source = f"partner:{audience.organisation.slug}"
    channels = ([Channel.EMAIL] if email else []) + ([Channel.SMS] if phone else [])
    if attested:
        subscriber.status = SubscriberStatus.CONFIRMED
        subscriber.confirmed_at = utcnow()
        for channel in channels:
            record_consent(subscriber, ConsentAction.ATTESTED, source, channel=channel,
                           basis=basis, attested_by=user)
    elif queue:
        for channel in channels:
            record_consent(subscriber, ConsentAction.REQUESTED, source, channel=channel)
        db.session.add(Confirmation(subscriber=subscriber))
    return subscriber


def _on_list(audience: Audience, email: str, phone: str):
    """The condition for a contact already on ``audience``: the same email address, or
    (someone with no email address) the same mobile number."""
    same = Subscriber.email == email if email else and_(Subscriber.email.is_(None),
                                                        Subscriber.phone == phone)
    return and_(Subscriber.audience_id == audience.id, same)


def _add_contact(audience: Audience, email: str, name: str, language: str, *,
                 attested: bool, basis: str, user, phone: str = "") -> bool:
    """Add one contact; False when the address is already on the list."""
    existing = db.session.scalar(select(Subscriber.id).where(
        _on_list(audience, email, phone)).limit(1))
    if existing is not None:
        return False
    subscriber = _new_contact(audience, email, name, language, attested=attested,
                              basis=basis, user=user, queue=False, phone=phone)
    if attested:
        db.session.flush()
    else:
        _send_confirmation(subscriber, f"partner:{audience.organisation.slug}")
    return True


def confirm_url(token: str) -> str:
    """The double opt-in link for a confirmation token (no request context needed)."""
    return external_url("subscriptions.confirm", token=token)


def _clean_basis(attested: bool, basis: str | None) -> str:
    text = clean_text(basis, label=_l("the consent basis"), max_length=500, field="basis",
                      multiline=True)
    if attested and not text:
        raise ValidationError(_("Say how these people agreed to hear from you."), "basis")
    return text


def add_contact(user, audience: Audience, data: dict[str, Any]) -> bool:
    require_org_editor(user, audience.organisation_id)
    attested = bool(data.get("attested"))
    basis = _clean_basis(attested, data.get("basis"))
    email, phone = clean_email_or_phone(data)
    check_not_stopped(email, phone)
    name = clean_text(data.get("name"), label=_l("a name"), max_length=NAME_MAX, field="name")
    language = recipient_language(audience, _clean_language(data.get("language") or "en"))
    added = _add_contact(audience, email, name, language, attested=attested, basis=basis,
                         user=user, phone=phone)
    if added:  # ids only: the log never holds an address
        audit.record("newsletter.contact_added", actor=user, organisation=audience.organisation,
                     target=audience, summary="Added a contact who already agreed" if attested
                     else "Added a contact, who is asked to confirm", attested=attested)
    return added


# Importing contacts from CSV: checked in the request, saved by a job ----------------

HEADER_CELLS = {"email", "email address", "e-mail"}
IMPORT_CHUNK = 200


def read_csv(csv_text: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on. Anything the csv module cannot read (a
    quote mark never closed, a cell over its 131,072-character limit) is a
    ``ValidationError`` naming that line, never a crash."""
    reader = csv.reader(io.StringIO(csv_text.lstrip("\ufeff")), strict=True)
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise ValidationError(_(
                "Line %(line)s of the file cannot be read as CSV. Check it for a quote mark "
                "(\") that is never closed, or a very long cell, then save the file as CSV "
                "(UTF-8) and try again.", line=line), "file") from None
        count += 1
        if count > CSV_MAX_ROWS:
            raise ValidationError(_("Import at most %(n)s rows at a time.",
                                    n=f"{CSV_MAX_ROWS:,}"), "file")
        yield line, row


def clean_import_row(audience: Audience, cells: list[str]) -> dict[str, str]:
    """One row's contact, checked; ``ValidationError`` with the reason otherwise. Each
    column is one line here (a new one, such as a phone number, is one more)."""
    if len(cells) > 4:
        raise ValidationError(_("Too many columns: expected email, name, language, mobile."))
    email, name, language, phone = [*cells, "", "", ""][:4]
    email, phone = clean_email_or_phone({"email": email, "phone": phone})
    contact = {
        "email": email, "phone": phone,
        "name": clean_text(name, label="the name", max_length=NAME_MAX),
    }
    code = get_language(language or audience_languages(audience)[0])
    if code is None:
        raise ValidationError(_("Unknown language “%(code)s”.", code=language))
    contact["language"] = recipient_language(audience, code.code)
    return contact


def start_import(user, audience: Audience, csv_text: str, *, attested: bool,
                 basis: str | None) -> ContactImport:
    """Check a CSV of ``email,name,language`` rows (a header row is optional) and queue
    the good rows for the import job. A file that cannot be read as CSV is refused
    whole; each bad row is reported with its line number and reason."""
    require_org_editor(user, audience.organisation_id)
    basis_text = _clean_basis(attested, basis)
    contacts: list[dict[str, Any]] = []
    lines: list[int] = []
    problems: list[list[Any]] = []
    seen: set[str] = set()
    for line, row in read_csv(csv_text):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if line == 1 and cells[0].lower() in HEADER_CELLS:
            continue
        try:
            contact = clean_import_row(audience, cells)
        except ValidationError as error:
            problems.append([line, error.message])
            continue
        key = contact["email"] or contact["phone"]
        if key in seen:
            problems.append([line, _("This address appears earlier in the file.")])
            continue
        seen.add(key)
        contacts.append(contact)
        lines.append(line)
    # Numbers that replied STOP (one query for the whole file): only the person can undo it.
    stopped = stopped_numbers([c["phone"] for c in contacts if not c["email"]])
    if stopped:
        message = _stopped_message()
        kept = [(line, c) for line, c in zip(lines, contacts, strict=True)
                if c["email"] or c["phone"] not in stopped]
        problems = sorted(problems + [[line, message] for line, c in zip(
            lines, contacts, strict=True) if not c["email"] and c["phone"] in stopped])
        contacts = [c for _line, c in kept]
    job = ContactImport(audience_id=audience.id, created_by_id=getattr(user, "id", None),
                        attested=attested, basis=basis_text, rows=contacts,
                        total=len(contacts), problems=problems)
    db.session.add(job)
    db.session.flush()
    audit.record("newsletter.contacts_import_started", actor=user,
                 organisation=audience.organisation, target=job,
                 summary=f"Importing {job.total} contacts ({len(problems)} rows with "
                 "problems)", attested=attested)
    return job


def get_import(audience: Audience, import_id: int) -> ContactImport | None:
    job = db.session.get(ContactImport, import_id)
    return job if job is not None and job.audience_id == audience.id else None


def get_import_for(organisation, import_id: int) -> ContactImport | None:
    """An import into any of the partner's audiences."""
    job = db.session.get(ContactImport, import_id)
    return job if job is not None and job.audience.organisation_id == organisation.id \
        else None


def import_next_chunk(job: ContactImport) -> bool:
    """Save the next chunk of an import (the caller commits it). True while more remain."""
    from feedback.accounts.models import User

    audience = job.audience
    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    chunk = job.rows[job.processed:job.processed + IMPORT_CHUNK]
    emails = [contact["email"] for contact in chunk if contact["email"]]
    phones = [contact.get("phone", "") for contact in chunk if not contact["email"]]
    on_list = set(db.session.scalars(select(Subscriber.email).where(
        Subscriber.audience_id == audience.id, Subscriber.email.in_(emails))))
    on_list |= set(db.session.scalars(select(Subscriber.phone).where(
        Subscriber.audience_id == audience.id, Subscriber.email.is_(None),
        Subscriber.phone.in_(phones)))) if phones else set()
    for contact in chunk:
        if (contact["email"] or contact.get("phone", "")) in on_list:
            job.already += 1
            continue
        _new_contact(audience, contact["email"], contact["name"], contact["language"],
                     attested=job.attested, basis=job.basis, user=user, queue=True,
                     phone=contact.get("phone", ""))
        job.added += 1
    job.processed += len(chunk)
    job.status = ImportStatus.RUNNING
    if job.processed >= job.total:
        job.status = ImportStatus.DONE
        job.finished_at = utcnow()
        job.rows = []  # the contacts are on the list now; keep no second copy
        audit.record("newsletter.contacts_imported", actor=user,
                     organisation=audience.organisation, target=job,
                     summary=f"Imported {job.added} contacts ({len(job.problems)} rows with "
                     "problems)", attested=job.attested, already=job.already)
    db.session.flush()
    return job.status != ImportStatus.DONE


def run_pending_imports() -> int:
    """The import job: save every waiting import, a chunk per transaction (resumable).
    Two runners never work on one import (a row lock; SQLite has one writer). Returns
    how many imports it finished."""
    finished = 0
    waiting = select(ContactImport.id).where(ContactImport.status != ImportStatus.DONE) \
        .order_by(ContactImport.id)
    for import_id in db.session.scalars(waiting).all():
        while True:
            lock = select(ContactImport).where(ContactImport.id == import_id,
                                               ContactImport.status != ImportStatus.DONE)
            if db.engine.dialect.name == "postgresql":
                lock = lock.with_for_update(skip_locked=True)
            job = db.session.scalar(lock)
            if job is None:
                db.session.rollback()
                break
            more = import_next_chunk(job)
            db.session.commit()
            if not more:
                finished += 1
                break
    return finished


def count_subscribers(audience_id: int) -> dict[str, int]:
    rows = db.session.execute(select(Subscriber.status, func.count()).where(
        Subscriber.audience_id == audience_id).group_by(Subscriber.status)).all()
    counts = {status.value: 0 for status in SubscriberStatus}
    counts.update({status.value: n for status, n in rows})
    return counts


def consent_history(subscriber_id: int) -> Sequence[ConsentRecord]:
    return db.session.scalars(select(ConsentRecord).where(
        ConsentRecord.subscriber_id == subscriber_id).order_by(ConsentRecord.id)).all()

