"""Fast MIME for bulk mail. The headers that are the same for every recipient of one
language version are encoded once (by the standard library's email package); per
recipient only the address, Message-ID, unsubscribe link and the two base64 body parts
are put in. The result is an ordinary multipart/alternative message."""

from __future__ import annotations

import binascii
import email.policy
import itertools
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from feedback.core.mail import header_value


def encode_headers(pairs: list[tuple[str, str]]) -> bytes:
    """RFC 5322 header lines (RFC 2047-encoded where needed), CRLF-terminated. Values are
    made safe first (``header_value``), whatever text they carry."""

    message = EmailMessage(policy=email.policy.SMTP)
    for name, value in pairs:
        message[name] = header_value(name, value)
    return bytes(message).split(b"\r\n\r\n", 1)[0] + b"\r\n"


def _base64(text: str) -> bytes:
    """Base64 in lines of 76 characters, each ending CRLF (as ``base64.encodebytes``, in
    one call instead of one per line)."""
    # "replace": a lone surrogate (only old rows can hold one) becomes "?", not an error.
    encoded = binascii.b2a_base64(text.encode("utf-8", "replace"), newline=False)
    if not encoded:
        return b""
    return b"\r\n".join([encoded[start:start + 76]
                          for start in range(0, len(encoded), 76)]) + b"\r\n"


def _safe(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("line break in a header value")
    return value


class Skeleton:
    """One language version's shared headers, ready for any number of recipients."""

    def __init__(self, shared_headers: list[tuple[str, str]]):
        self.shared = encode_headers(shared_headers)
        # Boundaries: "=_" cannot occur in base64, so a random prefix and a count are
        # unique enough, without asking the system for randomness per message.
        self._boundary = f"=_{uuid.uuid4().hex}."
        self._count = itertools.count()

    def message(self, *, to: str, message_id: str, unsubscribe_url: str | None, text: str,
                html: str | None) -> bytes:
        """One recipient's message (without List-Unsubscribe when ``unsubscribe_url`` is
        empty)."""
        if not to.isascii():  # an internationalised address: let the email package fold it
            per_recipient = encode_headers([("To", to)])
        else:
            per_recipient = f"To: {_safe(to)}\r\n".encode()
        unsubscribe = (f"List-Unsubscribe: <{_safe(unsubscribe_url)}>\r\n"
                       "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                       if unsubscribe_url else "")
        per_recipient += (
            f"Date: {format_datetime(datetime.now(UTC))}\r\n"
            f"Message-ID: {_safe(message_id)}\r\n"
            f"{unsubscribe}MIME-Version: 1.0\r\n").encode("ascii")
        plain = (b'Content-Type: text/plain; charset="utf-8"\r\n'
                 b"Content-Transfer-Encoding: base64\r\n\r\n" + _base64(text))
        if html is None:
            return self.shared + per_recipient + plain
        boundary = f"{self._boundary}{next(self._count)}".encode()
        return b"".join([
            self.shared, per_recipient,
            b'Content-Type: multipart/alternative; boundary="', boundary, b'"\r\n\r\n',
            b"--", boundary, b"\r\n", plain,
            b"--", boundary, b"\r\n",
            b'Content-Type: text/html; charset="utf-8"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n", _base64(html),
            b"--", boundary, b"--\r\n",
        ])
