"""Sending queued confirmation emails: the delivery worker's queue for contacts a partner
imported. They go at the delivery rate, with the same claim, retry and receipt code as
digests; a contact who confirmed, unsubscribed or was suppressed in the meantime is
skipped. The link's token is made as the email is rendered, and its hash is saved with
the batch."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import formataddr, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import (
    Row,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
    update,
)

from feedback.core.addresses import address_hash_sql
from feedback.core.languages import enabled_languages, get_language
from feedback.core.tokens import new_token
from feedback.delivery.channels import Outgoing
from feedback.delivery.mime import Skeleton
from feedback.delivery.queues import Queue, domain
from feedback.extensions import db
from feedback.subscriptions import sms
from feedback.subscriptions.models import (
    Audience,
    Channel,
    Confirmation,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from feedback.subscriptions.services import (
    STOP_REASON,
    channel_address,
    confirm_url,
    confirmation_email,
    confirmation_text,
    suppress,
)
from feedback.updates.tasks import request_context

CONFIRMATION_REFERENCE = "confirmation-"  # Notify receipts: confirmation-<id>


def _still_wanted() -> Select:
    address = func.coalesce(Subscriber.email, Subscriber.phone)
    own_request = and_(Audience.organisation_id.is_(None), Suppression.reason == STOP_REASON)
    return (select(Confirmation.id)
            .join(Subscriber, Subscriber.id == Confirmation.subscriber_id)
            .join(Audience, Audience.id == Subscriber.audience_id)
            .where(Confirmation.id.in_(bindparam("ids", expanding=True)),
                   Subscriber.status == SubscriberStatus.PENDING,
                   ~exists().where(Suppression.address_hash == address_hash_sql(address),
                                   ~own_request)))


STILL_WANTED = _still_wanted()


class ConfirmationQueue(Queue):
    """One row per imported contact waiting to confirm."""

    model = Confirmation
    reference_prefix = CONFIRMATION_REFERENCE

    def __init__(self, worker):
        super().__init__(worker)
        sender = parseaddr(current_app.config["MAIL_FROM"])
        self.sender, self.envelope_from = formataddr(sender), sender[1]
        self.host = domain(worker.base_url)

    def claimed(self, token: str) -> Sequence[Row]:
        return db.session.execute(
            select(Confirmation.id, Confirmation.subscriber_id, Confirmation.attempts,
                   Subscriber.email, Subscriber.phone, Subscriber.language,
                   Subscriber.audience_id,
                   # The channel it goes by, the one a permanent failure suppresses.
                   case((Subscriber.email.is_(None), literal(Channel.SMS.value)),
                        else_=literal(Channel.EMAIL.value)).label("channel"))
            .join(Subscriber, Subscriber.id == Confirmation.subscriber_id)
            .join(Audience, Audience.id == Subscriber.audience_id)
            .where(Confirmation.claim_token == token).order_by(Confirmation.id)).all()

    def still_wanted(self, rows: Sequence[Row]) -> set[int]:
        """Still waiting to confirm, and the address not suppressed (the mobile number,
        for someone who gets text messages only). A number that replied STOP is still
        sent the confirmation of a sign-up on our own form (a platform audience): it
        answers the person's own request, and confirming lifts the STOP. A partner's
        contact is never sent one."""
        return set(db.session.scalars(STILL_WANTED, {"ids": [row.id for row in rows]}))

    def outgoing(self, row: Row) -> Outgoing:
        if row.email is None:
            return self._text_message(row)
        token, token_hash = new_token()
        db.session.execute(update(Subscriber).where(Subscriber.id == row.subscriber_id)
                           .values(confirm_token_hash=token_hash)
                           .execution_options(synchronize_session=False))
        language = (get_language(row.language)
                    or get_language(current_app.config["DEFAULT_LANGUAGE"])
                    or enabled_languages()[0])
        audience = db.session.get(Audience, row.audience_id)  # one per batch, remembered
        with request_context(), force_locale(language.babel_locale):
            subject, template, values = confirmation_email(audience, confirm_url(token))
            text = render_template(f"email/{template}.txt", **values)
        identifier = f"<confirmation.{row.id}.{row.attempts}@{self.host}>"
        skeleton = Skeleton([("From", self.sender), ("Subject", subject),
                             ("Content-Language", language.code)])
        return Outgoing(
            delivery_id=row.id, reference=f"{CONFIRMATION_REFERENCE}{row.id}", to=row.email,
            subject=subject, text=text, html=None,
            headers={"Content-Language": language.code}, message_id=identifier,
            unsubscribe_url="", envelope_from=self.envelope_from,
            raw=skeleton.message(to=row.email, message_id=identifier, unsubscribe_url=None,
                                 text=text, html=None))

    def permanent_failure(self, row: Row, reason: str) -> None:
        """The address it went to: the mobile number for someone with no email address."""
        suppress(channel_address(row.channel, row.email, row.phone), reason)

    @classmethod
    def receipt_failure(cls, record: Confirmation, reason: str) -> None:
        suppress(record.subscriber.email or record.subscriber.phone, reason)

    def _text_message(self, row: Row) -> Outgoing:
        """The confirmation for someone with a mobile number only: a text message with a
        short, single-use confirmation link."""
        code = sms.new_confirmation_code(row.subscriber_id)
        language = (get_language(row.language)
                    or get_language(current_app.config["DEFAULT_LANGUAGE"])
                    or enabled_languages()[0])
        audience = db.session.get(Audience, row.audience_id)
        with request_context(), force_locale(language.babel_locale):
            text = confirmation_text(audience, sms.short_url(code))
        return Outgoing(
            delivery_id=row.id, reference=f"{CONFIRMATION_REFERENCE}{row.id}", to="",
            subject="", text=text, html=None, headers={}, message_id="",
            unsubscribe_url="", phone=row.phone, sms=True)
