"""Ways out: SMTP, GOV.UK Notify (its official client) and, in development, the outbox folder.

A channel's ``send`` returns the provider's id once the provider has ACCEPTED the
message, or raises ``TemporaryFailure`` (retry later, with ``retry_after`` when the
provider said so) or ``PermanentFailure`` (never retry; the address is suppressed).
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import requests
from flask import current_app
from notifications_python_client.errors import APIError
from notifications_python_client.errors import HTTPError as NotifyHTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from feedback.core import mail

log = logging.getLogger(__name__)
UK = ZoneInfo("Europe/London")


class TemporaryFailure(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class BackOff(TemporaryFailure):
    """The provider is rate limiting us: stop sending for ``retry_after`` seconds. It does
    not count as a failed attempt."""


class PermanentFailure(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Outgoing:
    """One message for one recipient, already personalised."""

    delivery_id: int
    to: str
    subject: str
    text: str
    html: str | None
    headers: dict[str, str]
    message_id: str
    unsubscribe_url: str
    phone: str = ""
    sms: bool = False
    extra: dict = field(default_factory=dict)
    raw: bytes | None = None  # the whole message, already encoded (bulk mail)
    envelope_from: str = ""
    reference: str = ""  # what delivery receipts name it by; default: the delivery id

    @property
    def receipt_reference(self) -> str:
        return self.reference or str(self.delivery_id)

    def email_message(self) -> EmailMessage:
        headers = dict(self.headers)
        # set_content() drops Content-* headers, so this one goes on afterwards.
        language = headers.pop("Content-Language", None)
        message = mail.build_message(self.to, self.subject, self.text, self.html,
                                     headers=headers, message_id=self.message_id)
        if language:
            message["Content-Language"] = language
        if self.extra.get("from"):
            message.replace_header("From", mail.header_value("From", self.extra["from"]))
        return message


class OutboxChannel:
    """Development: each message becomes an ``.eml`` file in the outbox folder."""

    name = "outbox"

    def send(self, outgoing: Outgoing) -> str | None:
        if outgoing.sms:
            raise PermanentFailure("text messages need GOV.UK Notify")
        mail.write_to_outbox(outgoing.raw if outgoing.raw is not None
                             else outgoing.email_message())
        return None

    def close(self) -> None:
        pass


class SmtpChannel:
    """smtplib with STARTTLS or SSL and authentication: ``SMTP_CONNECTIONS`` connections,
    each opened when first needed and then reused. ``start`` queues up to one message on
    each connection, each connection in its own thread, so that the server's round trips
    (four per message) overlap; every message still gets its own answer."""

    name = "smtp"

    def __init__(self, connections: int | None = None) -> None:
        config = current_app.config
        # Copied: the sending threads have no app context.
        self._config = {key: config[key] for key in (
            "SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USERNAME", "SMTP_PASSWORD")}
        wanted = config["SMTP_CONNECTIONS"] if connections is None else connections
        self.connections = max(1, int(wanted))
        self._smtp: list[smtplib.SMTP | None] = [None] * self.connections
        self._threads: list[ThreadPoolExecutor] | None = None

    def _connection(self, slot: int) -> smtplib.SMTP:
        smtp = self._smtp[slot]
        if smtp is None:
            try:
                smtp = self._smtp[slot] = mail.open_smtp(self._config)
            except (OSError, smtplib.SMTPException) as error:
                raise TemporaryFailure(f"cannot connect: {type(error).__name__}") from None
        return smtp

    def _drop(self, slot: int) -> None:
        smtp, self._smtp[slot] = self._smtp[slot], None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def send(self, outgoing: Outgoing, slot: int = 0) -> str | None:
        """Send on connection ``slot`` (only one message at a time may use each)."""
        if outgoing.sms:
            raise PermanentFailure("text messages need GOV.UK Notify")
        smtp = self._connection(slot)
        try:
            if outgoing.raw is not None:
                refused = send_prepared(smtp, outgoing.envelope_from, outgoing.to,
                                        outgoing.raw)
            else:
                refused = smtp.send_message(outgoing.email_message())
        except smtplib.SMTPRecipientsRefused as error:
            code = next(iter(error.recipients.values()))[0]
            self._reset(slot)
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(
                f"recipient refused ({code})") from None
        except smtplib.SMTPResponseException as error:
            self._reset(slot)
            if error.smtp_code >= 500 and error.smtp_code != 552:
                raise PermanentFailure(f"refused ({error.smtp_code})") from None
            raise TemporaryFailure(f"deferred ({error.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as error:
            self._drop(slot)
            raise TemporaryFailure(f"connection lost: {type(error).__name__}") from None
        if refused:
            raise TemporaryFailure("recipient deferred")
        return None

    def start(self, outgoings: Sequence[Outgoing]) -> list[Future]:
        """Queue up to ``connections`` messages, one per connection. Each connection has
        its own thread and sends its messages in the order they came; each future gives
        what ``send`` returns or raises."""
        if len(outgoings) > self.connections:
            raise ValueError(f"{len(outgoings)} messages for {self.connections} connections")
        if self._threads is None:
            self._threads = [ThreadPoolExecutor(1, thread_name_prefix=f"smtp-{slot}")
                             for slot in range(self.connections)]
        return [self._threads[slot].submit(self.send, outgoing, slot)
                for slot, outgoing in enumerate(outgoings)]

    def _reset(self, slot: int) -> None:
        smtp = self._smtp[slot]
        try:
            if smtp is not None:
                smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop(slot)

    def close(self) -> None:
        for thread in self._threads or []:
            thread.shutdown(wait=True)
        self._threads = None
        for slot, smtp in enumerate(self._smtp):
            if smtp is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
            self._smtp[slot] = None


# An address smtplib need not parse: plain ASCII, no spaces, quotes, brackets or commas.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+\Z")


def send_prepared(smtp: smtplib.SMTP, sender: str, recipient: str, raw: bytes) -> dict:
    """``smtp.sendmail(sender, [recipient], raw)``, with the same answers and exceptions,
    for a message already encoded with CRLF line ends. A plain address goes in the
    envelope as it is: ``sendmail`` parses each one with ``email.utils.parseaddr``, which
    was a fifth of a bulk worker's CPU time. Anything else goes through ``sendmail``."""
    if not (_PLAIN_ADDRESS.match(sender) and _PLAIN_ADDRESS.match(recipient)):
        return smtp.sendmail(sender, [recipient], raw)
    smtp.ehlo_or_helo_if_needed()
    code, answer = smtp.docmd("mail", f"FROM:<{sender}>")
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    code, answer = smtp.docmd("rcpt", f"TO:<{recipient}>")
    if code not in (250, 251):
        _end_transaction(smtp, code)
        raise smtplib.SMTPRecipientsRefused({recipient: (code, answer)})
    code, answer = _data(smtp, raw)
    if code != 250:
        _end_transaction(smtp, code)
        raise smtplib.SMTPDataError(code, answer)
    return {}


def _data(smtp: smtplib.SMTP, raw: bytes) -> tuple[int, bytes]:
    """``smtp.data(raw)``. A message with no line starting with a dot (ours: base64
    bodies) needs no dot-stuffing, so it goes without smtplib's regular expression pass
    over it."""
    if b"\n." in raw or raw.startswith(b"."):
        return smtp.data(raw)
    code, answer = smtp.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, answer)
    smtp.send(raw + (b"." if raw.endswith(b"\r\n") else b"\r\n.") + b"\r\n")
    return smtp.getreply()


def _end_transaction(smtp: smtplib.SMTP, code: int) -> None:
    """What ``sendmail`` does after a refusal: close on 421, else reset the transaction."""
    if code == 421:
        smtp.close()
    else:
        with contextlib.suppress(smtplib.SMTPServerDisconnected):
            smtp.rset()


class NotifyChannel:
    """GOV.UK Notify through its official client (``notifications-python-client``), one
    call per message. 429 means back off, not fail; the daily cap waits for midnight."""

    name = "notify"

    def __init__(self) -> None:
        config = current_app.config
        self.client = NotificationsAPIClient(config["NOTIFY_API_KEY"],
                                             base_url=config["NOTIFY_BASE_URL"].rstrip("/"),
                                             timeout=30)
        self.email_template = config["NOTIFY_EMAIL_TEMPLATE_ID"]
        self.sms_template = config["NOTIFY_SMS_TEMPLATE_ID"]

    def send(self, outgoing: Outgoing) -> str | None:
        try:
            if outgoing.sms:
                response = self.client.send_sms_notification(
                    phone_number=outgoing.phone, template_id=self.sms_template,
                    personalisation={"body": outgoing.text},
                    reference=outgoing.receipt_reference)
            else:
                response = self.client.send_email_notification(
                    email_address=outgoing.to, template_id=self.email_template,
                    personalisation={"subject": mail.safe_header_text(outgoing.subject),
                                     "body": outgoing.text},
                    reference=outgoing.receipt_reference,
                    one_click_unsubscribe_url=outgoing.unsubscribe_url or None)
        except NotifyHTTPError as error:
            raise classify_notify_error(error) from None
        except APIError as error:  # an answer that was not JSON
            raise TemporaryFailure(f"Notify answered oddly ({error.status_code})") from None
        return str((response or {}).get("id", ""))[:64] or None

    def close(self) -> None:
        self.client.request_session.close()


def classify_notify_error(error: NotifyHTTPError) -> TemporaryFailure | PermanentFailure:
    """What a refused or failed call to Notify means for the message."""
    response = error.response
    if response is None:  # the request never got an answer
        return TemporaryFailure("Notify unreachable")
    status = response.status_code
    if status == 429:
        if _error_names(response) & {"TooManyRequestsError"}:
            # The daily cap (250,000 emails, 250,000 texts), not the per-minute rate:
            # nothing more will go today, so wait until Notify's day starts again.
            wait = seconds_until_uk_midnight()
            log.warning("GOV.UK Notify daily limit reached; sending resumes in %d s", wait)
            return BackOff("Notify daily limit reached (429)", retry_after=wait)
        retry_after = response.headers.get("Retry-After")
        return BackOff("Notify rate limit (429)", retry_after=float(retry_after)
                       if retry_after and retry_after.isdigit() else 60.0)
    if status >= 500:
        return TemporaryFailure(f"Notify error ({status})")
    if status == 400 and _bad_recipient(response):
        return PermanentFailure("Notify rejected the address (400)")
    # 400/403 for our own configuration: retrying will not help, but the address is fine.
    return TemporaryFailure(f"Notify refused the request ({status})", retry_after=3600)


def seconds_until_uk_midnight(now: datetime | None = None) -> float:
    """Seconds until the next midnight in the UK (when Notify's daily limits reset), plus
    a minute's margin."""
    now = (now or datetime.now(UTC)).astimezone(UK)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), dt_time(0), tzinfo=UK)
    return (tomorrow - now).total_seconds() + 60


def _error_names(response: requests.Response) -> set[str]:
    try:
        errors = response.json().get("errors", [])
    except (ValueError, AttributeError):
        return set()
    return {str(e.get("error", "")) for e in errors if isinstance(e, dict)}


def _bad_recipient(response: requests.Response) -> bool:
    try:
        errors = response.json().get("errors", [])
    except ValueError:
        return False
    return any("email_address" in (e.get("message") or "") or "phone_number" in
               (e.get("message") or "") for e in errors)


def open_channel():
    """The configured channel for bulk mail."""
    config = current_app.config
    chosen = config["DELIVERY_CHANNEL"] or ("smtp" if config["SMTP_HOST"] else "outbox")
    if chosen == "notify":
        return NotifyChannel()
    if chosen == "smtp":
        return SmtpChannel()
    return OutboxChannel()
