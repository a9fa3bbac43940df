"""Validation used by services, so the web, the API and the CLI reject the same input."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlparse

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from feedback.core.exceptions import ValidationError
from feedback.core.inputs import has_control_characters

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Unicode general categories refused in single-line text (titles, names, subjects...):
# controls (Cc), invisible format characters (Cf), line and paragraph separators (Zl,
# Zp) and lone surrogates (Cs). These end up in email headers, which must stay on one
# line. Some format characters are part of writing, so they are allowed: ZWNJ and ZWJ
# (U+200C, U+200D), which the Indic and Arabic scripts need, and the marks and isolates
# that right-to-left keyboards insert (LRM, RLM, ALM; U+2066 to U+2069). The embeddings
# and overrides (U+202A to U+202E), which can make text read backwards, stay refused.
SINGLE_LINE_REFUSED = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
JOINERS = frozenset({"\u200c", "\u200d", "\u200e", "\u200f", "\u061c",
                     "\u2066", "\u2067", "\u2068", "\u2069"})
SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean_text(
    value: str | None, *, label, max_length: int, required: bool = False,
    field: str | None = None, multiline: bool = False,
) -> str:
    """The one place text from people is cleaned: Unicode NFC, surrounding space stripped,
    length and characters checked. Single-line text refuses the categories in
    ``SINGLE_LINE_REFUSED``; multi-line text allows tab and line breaks. Never truncates."""
    text = unicodedata.normalize("NFC", value or "").strip()
    label = str(label)
    if required and not text:
        raise ValidationError(_("Enter %(label)s.", label=label), field)
    if len(text) > max_length:
        raise ValidationError(
            _("%(label)s must be %(limit)s characters or fewer (it has %(length)s).",
              label=_capitalised(label), limit=f"{max_length:,}", length=f"{len(text):,}"),
            field)
    if has_control_characters(text) or SURROGATES.search(text):
        raise ValidationError(_("%(label)s contains characters that are not allowed.",
                                label=_capitalised(label)), field)
    if not multiline and (bad := refused_in_single_line(text)):
        raise ValidationError(
            _("%(label)s must be one line of visible text. Remove the line break or "
              "invisible character (%(character)s) and try again.",
              label=_capitalised(label), character=describe_character(bad)), field)
    return text


def refused_in_single_line(text: str) -> str | None:
    """The first character single-line text may not contain, or None."""
    for character in text:
        if character not in JOINERS and \
                unicodedata.category(character) in SINGLE_LINE_REFUSED:
            return character
    return None


def describe_character(character: str) -> str:
    """``U+2028 LINE SEPARATOR``: how a message names an invisible character."""
    return f"U+{ord(character):04X} {unicodedata.name(character, '')}".strip()


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


def clean_phone(value: str | None, field: str | None = "phone", *,
                region: str = "GB") -> str:
    """A mobile number in E.164 (``+447911123456``), or empty when none is given. Numbers
    without a country code are read as UK numbers (``region``)."""
    import phonenumbers  # imported when needed: its metadata is slow to load

    text = clean_text(value, label=_l("a mobile number"), max_length=40, field=field)
    if not text:
        return ""
    mobile = {phonenumbers.PhoneNumberType.MOBILE,
              phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number) or \
            phonenumbers.number_type(number) not in mobile:
        raise ValidationError(
            _("Enter a mobile number, like 07911 123456 or +44 7911 123456."), field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
