"""Validation used by services, so the web, the API and the CLI reject the same input."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from feedback.core.inputs import has_control_characters

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ValidationError(ValueError):
    """Input that breaks a rule. ``field`` names the form field when there is one.

    Services raise it with ``lazy_gettext`` messages: ``message`` is translated when it
    is read, so each response (web page, API, CLI) gets the reader's language."""

    def __init__(self, message: Any, field: str | None = None):
        super().__init__(message)
        self._message = message
        self.field = field

    @property
    def message(self) -> str:
        return str(self._message)

    def __str__(self) -> str:
        return self.message


def clean_text(
    value: str | None, *, label, max_length: int, required: bool = False,
    field: str | None = None, multiline: bool = False,
) -> str:
    """Strip surrounding space and check length and characters. Never truncates."""
    text = (value or "").strip()
    label = str(label)
    if required and not text:
        raise ValidationError(_("Enter %(label)s.", label=label), field)
    if len(text) > max_length:
        raise ValidationError(
            _("%(label)s must be %(limit)s characters or fewer (it has %(length)s).",
              label=_capitalised(label), limit=f"{max_length:,}", length=f"{len(text):,}"),
            field)
    if has_control_characters(text) or (not multiline and ("\n" in text or "\r" in text)):
        raise ValidationError(_("%(label)s contains characters that are not allowed.",
                                label=_capitalised(label)), field)
    return text


def _capitalised(label: str) -> str:
    return label[:1].upper() + label[1:]


def clean_email(value: str | None, field: str | None = "email") -> str:
    """A syntactically valid address, lower-cased for matching. No DNS look-up."""
    text = clean_text(value, label=_l("an email address"), max_length=254, required=True,
                      field=field)
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(
            _("Enter an email address in the correct format, like name@example.com."), field
        ) from None
    return result.normalized.lower()


def clean_url(value: str | None, *, label, field: str | None = None,
              required: bool = False, max_length: int = 500) -> str:
    """An http(s) address, or empty when not required."""
    text = clean_text(value, label=label, max_length=max_length, required=required, field=field)
    if not text:
        return ""
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError(
            _("%(label)s must be a web address starting with https://.",
              label=_capitalised(str(label))), field)
    return text


def clean_slug(value: str | None, *, field: str | None = "slug") -> str:
    text = clean_text(value, label=_l("a short name for web addresses"), max_length=80,
                      required=True, field=field)
    if not SLUG_PATTERN.match(text):
        raise ValidationError(
            _("The short name can only use lower-case letters, numbers and single hyphens."),
            field)
    return text


def slugify(text: str, max_length: int = 60) -> str:
    """A URL slug from a name: 'Sickle Cell Unit' -> 'sickle-cell-unit'."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"
