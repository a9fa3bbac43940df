"""A partner's workspace: its audiences, and the contacts on each (list, search, remove,
move, export, consent history). Only the partner's own staff may use it; every change
is recorded in the consent ledger and the audit log (ids and counts, never addresses).

Services ``flush()``; the request commits."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, or_, select

from feedback.accounts.permissions import require_org_editor
from feedback.audit import services as audit
from feedback.core.csvsafe import SafeWriter
from feedback.core.pagination import Page, paginate
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.subscriptions import services
from feedback.subscriptions.models import (
    NAME_MAX,
    Audience,
    Channel,
    ConsentAction,
    ConsentRecord,
    Subscriber,
    SubscriberStatus,
)
from feedback.subscriptions.services import record_consent, unsubscribe

CONTACTS_PER_PAGE = 25
EXPORT_HEADER = ("email", "name", "language", "status", "phone", "added", "confirmed",
                 "unsubscribed")


class NotFound(Exception):
    """No such audience or contact for this partner."""


def partner_audiences(organisation_id: int) -> Sequence[Audience]:
    """The partner's audiences, oldest first (the first is its original newsletter)."""
    return db.session.scalars(select(Audience).where(
        Audience.organisation_id == organisation_id).order_by(Audience.id)).all()


def audience_counts(organisation_id: int) -> dict[int, int]:
    """Confirmed contacts per audience of one partner, in one query."""
    rows = db.session.execute(
        select(Subscriber.audience_id, func.count()).join(Audience).where(
            Audience.organisation_id == organisation_id,
            Subscriber.status == SubscriberStatus.CONFIRMED).group_by(Subscriber.audience_id))
    return {audience_id: n for audience_id, n in rows}


def get_audience(organisation, audience_id: int) -> Audience:
    audience = db.session.get(Audience, audience_id)
    if audience is None or audience.organisation_id != organisation.id:
        raise NotFound
    return audience


def _clean_name(name: str | None) -> str:
    return clean_text(name, label=_l("an audience name"), max_length=NAME_MAX,
                      required=True, field="name")


def create_audience(user, organisation, name: str | None) -> Audience:
    """A new, empty audience for the partner, with the first one's languages and sender
    (or English and the partner's name)."""
    require_org_editor(user, organisation.id)
    clean = _clean_name(name)
    if db.session.scalar(select(exists().where(Audience.organisation_id == organisation.id,
                                               Audience.name == clean))):
        raise ValidationError(_("You already have an audience with that name."), "name")
    first = next(iter(partner_audiences(organisation.id)), None)
    audience = Audience(organisation_id=organisation.id, name=clean,
                        languages=list(first.languages) if first else ["en"],
                        sender_name=first.sender_name if first else organisation.name)
    db.session.add(audience)
    db.session.flush()
    audit.record("newsletter.audience_created", actor=user, organisation=organisation,
                 target=audience, summary=f"Audience created: {audience.name}")
    return audience


@dataclass(frozen=True)
class ContactFilters:
    search: str = ""
    language: str = ""
    status: str = ""
    channel: str = ""

    @classmethod
    def from_args(cls, args) -> ContactFilters:
        status = args.get("status", "")
        channel = args.get("channel", "")
        return cls(search=(args.get("q") or "").strip()[:200],
                   language=(args.get("language") or "")[:16],
                   status=status if status in {s.value for s in SubscriberStatus} else "",
                   channel=channel if channel in {c.value for c in Channel} else "")


def _contacts_query(audience: Audience, filters: ContactFilters) -> Select:
    query = select(Subscriber).where(Subscriber.audience_id == audience.id)
    if filters.search:
        pattern = "%" + filters.search.lower().replace("\\", "\\\\").replace(
            "%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(Subscriber.email).like(pattern, escape="\\"),
                                func.lower(Subscriber.name).like(pattern, escape="\\"),
                                Subscriber.phone.like(pattern, escape="\\")))
    if filters.language:
        query = query.where(Subscriber.language == filters.language)
    if filters.status:
        query = query.where(Subscriber.status == SubscriberStatus(filters.status))
    if filters.channel == Channel.SMS:
        query = query.where(Subscriber.phone != "")
    elif filters.channel == Channel.EMAIL:
        query = query.where(Subscriber.email.is_not(None))
    return query


def list_contacts(user, audience: Audience, filters: ContactFilters, page: int = 1) -> Page:
    """One page of the audience's contacts, matching the search and filters (a fixed
    number of queries, whatever the page holds)."""
    require_org_editor(user, audience.organisation_id)
    return paginate(_contacts_query(audience, filters).order_by(
        Subscriber.created_at.desc(), Subscriber.id.desc()), page, CONTACTS_PER_PAGE)


def get_contact(user, audience: Audience, contact_id: int) -> Subscriber:
    require_org_editor(user, audience.organisation_id)
    contact = db.session.get(Subscriber, contact_id)
    if contact is None or contact.audience_id != audience.id:
        raise NotFound
    return contact


def remove_contact(user, contact: Subscriber) -> None:
    """Take someone off the list: the unsubscription goes in the consent ledger (the
    partner's staff member as its source) and the audit log. Safe to repeat."""
    audience = contact.audience
    require_org_editor(user, audience.organisation_id)
    if contact.status == SubscriberStatus.UNSUBSCRIBED:
        return
    unsubscribe(contact, f"partner:{audience.organisation.slug}:removed")
    audit.record("newsletter.contact_removed", actor=user, organisation=audience.organisation,
                 target=audience, summary=f"Removed contact {contact.id}",
                 contact_id=contact.id)


def move_contact(user, contact: Subscriber, target: Audience) -> Subscriber:
    """Move a contact to another of the partner's audiences. Their consent moves with
    them; the ledger says so on both sides, and so does the audit log."""
    source = contact.audience
    require_org_editor(user, source.organisation_id)
    if target.organisation_id != source.organisation_id:
        raise NotFound
    if target.id == source.id:
        raise ValidationError(_("Choose a different audience."), "audience_id")
    if contact.is_erased:
        raise ValidationError(_("This contact's details were erased; they cannot be moved."),
                              "audience_id")
    same = Subscriber.email == contact.email if contact.email else and_(
        Subscriber.email.is_(None), Subscriber.phone == contact.phone)
    if db.session.scalar(select(exists().where(Subscriber.audience_id == target.id, same))):
        raise ValidationError(_("This person is already on that audience."), "audience_id")
    slug = source.organisation.slug
    record_consent(contact, ConsentAction.PREFERENCES, f"partner:{slug}:moved-from:{source.id}",
            attested_by=user)
    contact.audience = target
    record_consent(contact, ConsentAction.PREFERENCES, f"partner:{slug}:moved-to:{target.id}",
            attested_by=user)
    db.session.flush()
    audit.record("newsletter.contact_moved", actor=user, organisation=source.organisation,
                 target=target, summary=f"Moved contact {contact.id} from audience "
                 f"{source.id} to {target.id}", contact_id=contact.id, from_audience=source.id)
    return contact


def export_contacts(user, audience: Audience, filters: ContactFilters) -> str:
    """The audience's contacts (those matching the filters) as formula-safe CSV. The
    export is audited with its count and filters, never an address."""
    require_org_editor(user, audience.organisation_id)
    contacts = db.session.scalars(_contacts_query(audience, filters).where(
        or_(Subscriber.email.is_not(None), Subscriber.phone != "")).order_by(Subscriber.id)
    ).all()
    stream = io.StringIO()
    writer = SafeWriter(stream)
    writer.writerow(EXPORT_HEADER)
    for contact in contacts:
        writer.writerow([
            contact.email, contact.name, contact.language, contact.status.value, contact.phone,
            contact.created_at.isoformat() if contact.created_at else "",
            contact.confirmed_at.isoformat() if contact.confirmed_at else "",
            contact.unsubscribed_at.isoformat() if contact.unsubscribed_at else ""])
    audit.record("newsletter.contacts_exported", actor=user, organisation=audience.organisation,
                 target=audience, summary=f"Exported {len(contacts)} contacts",
                 count=len(contacts), filtered=any(vars(filters).values()))
    return stream.getvalue()


def consent_history(user, contact: Subscriber) -> Sequence[ConsentRecord]:
    """The contact's entries in the consent ledger, oldest first, for the partner's own
    staff."""
    require_org_editor(user, contact.audience.organisation_id)
    return services.consent_history(contact.id)


CONSENT_ACTION_LABELS = {
    ConsentAction.REQUESTED: _l("Asked to confirm"),
    ConsentAction.CONFIRMED: _l("Confirmed"),
    ConsentAction.ATTESTED: _l("Agreement recorded by your staff"),
    ConsentAction.PREFERENCES: _l("Choices changed"),
    ConsentAction.UNSUBSCRIBED: _l("Unsubscribed"),
}
STATUS_LABELS = {
    SubscriberStatus.PENDING: _l("Waiting to confirm"),
    SubscriberStatus.CONFIRMED: _l("Confirmed"),
    SubscriberStatus.UNSUBSCRIBED: _l("Unsubscribed"),
}
CHANNEL_LABELS = {Channel.EMAIL: _l("Email"), Channel.SMS: _l("Text message")}


def source_label(record: ConsentRecord) -> str:
    """Where a ledger entry came from, in words."""
    source = record.source
    if ":moved-from:" in source:
        return _("Moved out of this audience")
    if ":moved-to:" in source:
        return _("Moved into this audience")
    if source.endswith(":removed"):
        return _("Removed by your staff")
    if source.startswith("partner:"):
        return _("Added by your staff")
    if source == "one-click":
        return _("Unsubscribe button in their email program")
    if source.startswith("/subscriptions"):
        return _("A link in one of your emails")
    if source == "sms:STOP":
        return _("Replied STOP to a text message")
    if source == "/s":
        return _("A link in one of your text messages")
    return _("Sign-up page")


