"""Request-wide input checks: invalid UTF-8 and control characters get a clear 400."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from flask import Request

from feedback.core.exceptions import ValidationError

# C0 and C1 control characters other than tab, line feed and carriage return, plus DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class BadInput(ValidationError):
    """Input that cannot be accepted; ``message`` is shown to the person (a 400 page)."""

    def __init__(self, message: str):
        super().__init__(message)


def has_control_characters(value: str) -> bool:
    return bool(CONTROL_CHARACTERS.search(value))


def _check_urlencoded(raw: bytes, where: str) -> None:
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                text = unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                raise BadInput(f"The {where} is not valid UTF-8 text.") from None
            if has_control_characters(text):
                raise BadInput(
                    f"The {where} contains control characters. Remove them and try again."
                )


def check_request_text(request: Request) -> None:
    """Raise :class:`BadInput` (a 400 page) if the query string or a form body has invalid
    UTF-8 or control characters. Runs before any view, so nothing is half-written."""
    _check_urlencoded(request.query_string, "web address")
    if request.mimetype == "application/x-www-form-urlencoded":
        _check_urlencoded(request.get_data(cache=True), "form")
    elif request.mimetype == "application/json" and request.content_length:
        raw = request.get_data(cache=True)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("The request body is not valid UTF-8 text.") from None
