"""People who get text messages: short links, and replies of STOP.

A text message costs by its length, so its links are short (``/s/<code>``). Each code
does one thing (``ShortLink``), and like every other token only its SHA-256 is stored; a
confirmation text carries the confirmation token itself, short and single-use (stored as
its hash too). GOV.UK Notify forwards replies to ``/subscriptions/notify/inbound``;
a reply of STOP (or UNSUBSCRIBE, STOP ALL ...) unsubscribes every subscription of that
number, records it in the consent ledger and suppresses the number.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedback.core.keys import keyed_hash
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


def link_code(purpose: ShortLinkPurpose, *, edition_id: int | None = None,
              language: str = "", subscriber_id: int | None = None,
              subscribed_at: datetime | None = None) -> str:
    """The code for one purpose: an HMAC with the ``links`` key (``feedback.core.keys``)
    written in ``ALPHABET``. The same link always gets the same code, so texts to many
    people share one row per edition and language and each subscriber has one unsubscribe
    row, while the database keeps only the code's hash. Rotating ``LINK_SECRET_KEY``
    gives new codes; those already sent keep working (their rows stay).

    A subscriber's code also carries when the row was made: a database may give a deleted
    subscriber's id to someone new (SQLite does), and the codes texted to the first person
    must not open the second one's unsubscribe page."""
    made = subscribed_at.isoformat() if subscribed_at else ""
    digest = keyed_hash("links", f"sms-short-link|{purpose.value}|{edition_id or ''}|"
                                 f"{language}|{subscriber_id or ''}|{made}")
    number = int(digest, 16)
    letters = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(ALPHABET))
        letters.append(ALPHABET[index])
    return "".join(letters)


def _short_link(purpose: ShortLinkPurpose, *, edition_id: int | None = None,
                language: str = "", subscriber_id: int | None = None,
                subscribed_at: datetime | None = None) -> str:
    """The code for one purpose; its row (the code's hash and what it opens) is made on
    first use, in the caller's transaction."""
    code = link_code(purpose, edition_id=edition_id, language=language,
                     subscriber_id=subscriber_id, subscribed_at=subscribed_at)
    code_hash = hash_token(code)
    target = (purpose, edition_id, language, subscriber_id)
    found = select(ShortLink).where(ShortLink.code_hash == code_hash)
    link = db.session.scalar(found)
    if link is None:
        try:
            with db.session.begin_nested():
                db.session.add(ShortLink(code_hash=code_hash, purpose=purpose,
                                         edition_id=edition_id, language=language,
                                         subscriber_id=subscriber_id))
            return code
        except IntegrityError:  # made at the same moment by another worker
            link = db.session.scalar(found)
    if link is None or (link.purpose, link.edition_id, link.language,
                        link.subscriber_id) != target:
        # Two links with one code (49 bits): never send a link that opens something else.
        raise RuntimeError("short link code clash")
    return code


def edition_link(edition_id: int, language: str) -> str:
    """The short address of an edition's web version in one language."""
    return short_url(_short_link(ShortLinkPurpose.EDITION, edition_id=edition_id,
                                 language=language))


def unsubscribe_link(subscriber_id: int, subscribed_at: datetime) -> str:
    """The short address of one subscriber's unsubscribe page (``subscribed_at``: when
    the subscriber's row was made)."""
    return short_url(_short_link(ShortLinkPurpose.UNSUBSCRIBE, subscriber_id=subscriber_id,
                                 subscribed_at=subscribed_at))


def resolve(code: str) -> ShortLink | None:
    if not re.fullmatch(f"[{ALPHABET}]{{{CODE_LENGTH}}}", code or ""):
        return None
    return db.session.scalar(select(ShortLink).where(ShortLink.code_hash == hash_token(code)))


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
    services.suppress(number, services.STOP_REASON)
    db.session.flush()
    return len(subscribers)
