"""An edition as a text message: who it is from, its headline items, a short link to
its web version in the reader's language, and a short link to stop.

Rendered once per language (the delivery worker keeps it for the edition); only the
stop link differs per recipient (``STOP_LINK``). The partner's preview shows it with its
length as GOV.UK Notify bills it (``feedback.delivery.sms``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from feedback.core.languages import get_language
from feedback.delivery.sms import SmsLength, sms_length
from feedback.translation.display import localised_text as translate

STOP_LINK = "@@STOP_LINK@@"
HEADLINES = 3  # items named in the text; the rest are counted
HEADLINE_MAX = 60  # characters of each title


def _shorten(text: str, limit: int = HEADLINE_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


@dataclass(frozen=True)
class SmsLine:
    """One line of the text message. A headline carries the language it is really in
    (its translation's, else the source language's) and that language's direction, as
    the rest of the site marks translated fields; other lines are in the reader's
    language (``lang`` empty: the message's own)."""

    text: str
    lang: str = ""
    dir: str = ""


def sms_lines(edition, language_code: str, read_link: str) -> list[SmsLine]:
    """The text message for ``edition`` in one language, line by line, with
    ``STOP_LINK`` where each recipient's unsubscribe link goes. Titles are checked
    translations (machine drafts only where the partner allows them), else the
    original."""
    audience = edition.audience
    language = get_language(language_code) or get_language("en")
    sender = audience.sender_name or current_app.config["SERVICE_NAME"]
    items = list(edition.items or [])
    with force_locale(language.babel_locale):
        lines = [SmsLine(f"{sender}:")]
        for item in items[:HEADLINES]:
            title = translate(item.get("title") or "", language,
                              allow_machine=audience.allow_machine_translation,
                              kind="text")
            lines.append(SmsLine(f"- {_shorten(title.text)}", title.lang, title.dir))
        if len(items) > HEADLINES:
            more = len(items) - HEADLINES
            lines.append(SmsLine(ngettext("and %(num)d more", "and %(num)d more", more)))
        if not items:
            lines.append(SmsLine(_("Nothing new this time.")))
        lines.append(SmsLine(_("Read it: %(link)s", link=read_link)))
        lines.append(SmsLine(_("Stop: %(link)s or reply STOP", link=STOP_LINK)))
    return lines


def sms_text(edition, language_code: str, read_link: str) -> str:
    """The text message for ``edition`` in one language (``sms_lines``), as sent."""
    return "\n".join(line.text for line in sms_lines(edition, language_code, read_link))


def personalise_sms(text: str, stop_link: str) -> str:
    return text.replace(STOP_LINK, stop_link)


def sample_link() -> str:
    """A short link as long as a real one, for the preview (makes no link)."""
    from feedback.subscriptions.sms import CODE_LENGTH, short_url

    return short_url("x" * CODE_LENGTH)


def preview(edition, language_code: str) -> tuple[list[SmsLine], SmsLength]:
    """The text message as a reader gets it (links as long as real ones), line by line
    with each line's language, and its length."""
    link = sample_link()
    lines = [SmsLine(personalise_sms(line.text, link), line.lang, line.dir)
             for line in sms_lines(edition, language_code, link)]
    return lines, sms_length("\n".join(line.text for line in lines))
