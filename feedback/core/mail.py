"""Transactional email (sign-in links, invitations, confirmations).

With no SMTP server configured, each message is written to the outbox folder as an
``.eml`` file; that is how people sign in to a development site. Bulk mail (digests and
newsletters) goes through the delivery outbox instead.

Services send with :func:`send_template_email_after_commit`: the message is built at once
(in the reader's language) and held on the database session until its transaction
commits, so a rolled-back request never emails a link to a row that does not exist.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from feedback.extensions import db

log = logging.getLogger(__name__)

# What the email package refuses in a header value, or cannot encode: controls (line
# breaks among them, and the others ``str.splitlines`` splits on), the line and paragraph
# separators, and lone surrogates.
UNSAFE_IN_HEADER = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")


def safe_header_text(value: str) -> str:
    """``value`` made safe for one header line, whatever it contains: each run of unsafe
    characters becomes one space. Input validation refuses these characters in
    single-line fields already; this is the second line of defence, for text that
    arrived another way (old rows, translations, settings)."""
    return UNSAFE_IN_HEADER.sub(" ", value).strip()


def _encodable(text: str) -> str:
    """``text`` with any lone surrogate (only old rows can hold one) replaced by "?"."""
    return text.encode("utf-8", "replace").decode("utf-8")


def mailbox(display_name: str, address: str) -> str:
    """``"Display Name" <address>`` for From or To, whatever the name contains (an empty
    name gives the bare address). Quoted, not RFC 2047-encoded: the header policy encodes
    it when the message is written (``formataddr``'s encoding can lose the name)."""
    return str(Address(display_name=safe_header_text(display_name), addr_spec=address))


ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})


class EncodedHeader(str):
    """A header value that folds into RFC 2047 encoded words without losing a character.

    Python 3.11's email package folds a long non-ASCII value at a space and leaves that
    space *between* two encoded words, where every reader drops it ("سبسکرپشن کی" arrived
    as "سبسکرپشنکی"). Here the text is split into encoded words by ``email.header.Header``,
    which keeps every space inside them. The object is the decoded text (a ``str``); the
    email package calls ``fold`` when it writes the message."""

    name: str

    def __new__(cls, name: str, value: str) -> EncodedHeader:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        value = str(self)
        if "\r" in value or "\n" in value or "\u2028" in value or "\u2029" in value:
            raise ValueError(f"line break in the {self.name} header")
        if self.name.lower() in ADDRESS_HEADERS:  # only a display name may need encoding
            display, address = parseaddr(value)
            if not display or display.isascii():
                return f"{self.name}: {value}{policy.linesep}"
            encoded = Header(display, "utf-8", header_name=self.name).encode(
                linesep=policy.linesep)
            last_line = encoded.rsplit(policy.linesep, 1)[-1]
            fold = policy.linesep if len(last_line) + len(address) + 3 > 78 else ""
            return f"{self.name}: {encoded}{fold} <{address}>{policy.linesep}"
        encoded = Header(value, "utf-8", header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


def header_value(name: str, value: str) -> str:
    """``value`` ready to set as header ``name`` on an ``EmailMessage``: ASCII as it is,
    anything else as an ``EncodedHeader`` (subjects, and display names in addresses). Every
    message this service builds sets its subject and sender through here. Characters
    that could break the header line are replaced first (``safe_header_text``)."""
    value = safe_header_text(value)
    if value.isascii():
        return value
    return EncodedHeader(name, value)


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """An RFC 5322 message with a plain-text part and an optional HTML alternative.

    Every header value goes through ``header_value``, so no text can inject a header or
    stop the message being built.
    """
    message = EmailMessage()
    message["From"] = header_value("From", current_app.config["MAIL_FROM"])
    message["To"] = header_value("To", to)
    message["Subject"] = header_value("Subject", subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain=_mail_domain())
    for name, value in (headers or {}).items():
        message[name] = header_value(name, value)
    message.set_content(_encodable(text))
    if html is not None:
        message.add_alternative(_encodable(html), subtype="html")
    return message


def _mail_domain() -> str:
    sender = current_app.config["MAIL_FROM"]
    return sender.rsplit("@", 1)[-1].rstrip(">").strip() or "localhost"


def send_message(message: EmailMessage) -> None:
    """Send through SMTP, or write to the outbox folder when no server is configured."""
    config = current_app.config
    if not config["SMTP_HOST"]:
        write_to_outbox(message)
        return
    with open_smtp() as smtp:
        smtp.send_message(message)


def open_smtp(config: Mapping[str, Any] | None = None) -> smtplib.SMTP:
    """A connected (and, if configured, authenticated) SMTP client. ``config``: the app's
    settings, for a thread with no app context (the delivery worker's connections)."""
    config = current_app.config if config is None else config
    host, port, security = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_SECURITY"]
    if security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=30,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=30)
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if config["SMTP_USERNAME"]:
        smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
    return smtp


def write_to_outbox(message: EmailMessage | bytes) -> Path:
    """The one outbox-file writer: the message (built, or raw bytes) as a new ``.eml``
    file in ``OUTBOX_DIR``, named so that a listing sorts by time."""
    outbox = Path(current_app.config["OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = outbox / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message if isinstance(message, bytes) else bytes(message))
    log.info("mail written to outbox file %s", path.name)
    return path


def render_template_email(to: str, subject: str, template: str, **context) -> EmailMessage:
    """Render ``templates/email/<template>.txt`` (and ``.html`` if present) as a message."""
    text = render_template(f"email/{template}.txt", **context)
    try:
        html = render_template(f"email/{template}.html", **context)
    except TemplateNotFound:  # an HTML part is optional
        html = None
    return build_message(to, subject, text, html)


def send_template_email(to: str, subject: str, template: str, **context) -> None:
    """Render a template message and send it now (for work that runs after a commit)."""
    send_message(render_template_email(to, subject, template, **context))


def send_template_email_after_commit(to: str, subject: str, template: str,
                                     **context) -> None:
    """Render a template message now and send it when the session's transaction commits;
    nothing is sent if it rolls back."""
    message = render_template_email(to, subject, template, **context)
    session = db.session()
    # Each message remembers the (possibly nested) transaction it was queued in, so a
    # savepoint that rolls back takes its messages with it.
    queued_in = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING_MAIL, []).append((queued_in, message))


PENDING_MAIL = "feedback.mail_after_commit"


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _send_committed_mail(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released (SQLAlchemy calls this then too): not committed yet
    # The data is committed: a mail server that is down must not turn that into an error
    # page. Log without the address (personal data); the person can ask again.
    for _queued_in, message in session.info.pop(PENDING_MAIL, []):
        try:
            send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            log.error("a message could not be sent after commit: %s", type(error).__name__)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted_mail(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit
        session.info.pop(PENDING_MAIL, None)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_mail(session: Session, previous: SessionTransaction) -> None:
    """A savepoint rolled back: drop what was queued in it or in savepoints inside it."""
    pending = session.info.get(PENDING_MAIL)
    if previous.nested and pending:
        pending[:] = [entry for entry in pending if not _within(entry[0], previous)]
