"""People who get text messages: short links, and replies of STOP.

A text message costs by its length, so its links are short (``/s/<code>``). Each code
does one thing (``ShortLink``); a confirmation text carries the confirmation token itself,
short and single-use. GOV.UK Notify forwards replies to ``/subscriptions/notify/inbound``;
a reply of STOP (or UNSUBSCRIBE, STOP ALL ...) unsubscribes every subscription of that
number, records it in the consent ledger and suppresses the number.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedback.core.tokens import hash_token
from feedback.core.urls import external_url
from feedback.extensions import db
from feedback.subscriptions.models import (
    Channel,
    ShortLink,
    ShortLinkPurpose,
    Subscriber,
    SubscriberStatus,
)

# Letters and digits that cannot be mistaken for each other when typed from a phone.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10  # 31^10: about 49 bits, and /s/ is rate limited


def sms_enabled() -> bool:
    """Whether text messages can be sent (GOV.UK Notify with an SMS template)."""
    config = current_app.config
    return config["DELIVERY_CHANNEL"] == "notify" and bool(config["NOTIFY_SMS_TEMPLATE_ID"])


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def short_url(code: str) -> str:
    return external_url("subscriptions.short_link", code=code)


def _short_link(purpose: ShortLinkPurpose, *, edition_id: int | None = None,
                language: str = "", subscriber_id: int | None = None) -> str:
    """The code for one purpose, made on first use (in the caller's transaction)."""
    found = select(ShortLink.code).where(
        ShortLink.purpose == purpose, ShortLink.edition_id == edition_id
        if edition_id is not None else ShortLink.edition_id.is_(None),
        ShortLink.language == language, ShortLink.subscriber_id == subscriber_id
        if subscriber_id is not None else ShortLink.subscriber_id.is_(None)
    ).order_by(ShortLink.id).limit(1)
    code = db.session.scalar(found)
    if code is not None:
        return code
    for _attempt in range(3):  # a clash of random codes is very unlikely; try again
        code = new_code()
        try:
            with db.session.begin_nested():
                db.session.add(ShortLink(code=code, purpose=purpose, edition_id=edition_id,
                                         language=language, subscriber_id=subscriber_id))
            return code
        except IntegrityError:
            continue
    raise RuntimeError("could not make a short link")


def edition_link(edition_id: int, language: str) -> str:
    """The short address of an edition's web version in one language."""
    return short_url(_short_link(ShortLinkPurpose.EDITION, edition_id=edition_id,
                                 language=language))


def unsubscribe_link(subscriber_id: int) -> str:
    """The short address of one subscriber's unsubscribe page."""
    return short_url(_short_link(ShortLinkPurpose.UNSUBSCRIBE, subscriber_id=subscriber_id))


def resolve(code: str) -> ShortLink | None:
    if not re.fullmatch(f"[{ALPHABET}]{{{CODE_LENGTH}}}", code or ""):
        return None
    return db.session.scalar(select(ShortLink).where(ShortLink.code == code))


def pending_by_code(code: str) -> Subscriber | None:
    """Someone waiting to confirm whose text message carried ``code``."""
    if not re.fullmatch(f"[{ALPHABET}]{{{CODE_LENGTH}}}", code or ""):
        return None
    return db.session.scalar(select(Subscriber).where(
        Subscriber.confirm_token_hash == hash_token(code),
        Subscriber.status == SubscriberStatus.PENDING))


def new_confirmation_code(subscriber_id: int) -> str:
    """A short, single-use confirmation token for a text message; its hash replaces the
    subscriber's earlier one (the caller commits)."""
    from sqlalchemy import update

    code = new_code()
    db.session.execute(update(Subscriber).where(Subscriber.id == subscriber_id)
                       .values(confirm_token_hash=hash_token(code))
                       .execution_options(synchronize_session=False))
    return code


# Replies -------------------------------------------------------------------------------

STOP_WORDS = {"stop", "stopall", "stop all", "unsubscribe", "end", "cancel", "quit",
              "optout", "opt out", "stop please", "please stop"}


def is_stop(message: str | None) -> bool:
    """Whether a reply asks to stop: STOP, "Stop.", " stop all ", UNSUBSCRIBE, and the
    like, in any case, with punctuation or spacing around it."""
    words = re.sub(r"[^\w\s]", " ", (message or "").casefold())
    return " ".join(words.split()) in STOP_WORDS


def inbound_number(source_number: Any) -> str:
    """The sender's number in E.164. Notify gives UK numbers as ``447700900123``."""
    from feedback.core.validation import ValidationError, clean_phone

    text = re.sub(r"[\s()-]", "", str(source_number or ""))
    if text.isdigit() and not text.startswith("0"):
        text = "+" + text
    try:
        return clean_phone(text, None)
    except ValidationError:
        return ""


def receive_text(payload: dict[str, Any]) -> int:
    """Act on a text message Notify received for us. A STOP unsubscribes every
    subscription of the sender's number (ledger: channel sms, source "sms:STOP") and
    suppresses the number for text messages. Returns how many subscriptions stopped."""
    from feedback.subscriptions import services

    if not is_stop(str(payload.get("message") or "")):
        return 0
    number = inbound_number(payload.get("source_number"))
    if not number:
        return 0
    subscribers = db.session.scalars(select(Subscriber).where(
        Subscriber.phone == number, Subscriber.status != SubscriberStatus.UNSUBSCRIBED)
    ).all()
    for subscriber in subscribers:
        services.unsubscribe(subscriber, "sms:STOP", channel=Channel.SMS)
    services.suppress(number, "replied STOP")
    db.session.flush()
    return len(subscribers)
