"""An edition as a text message: who it is from, its headline items, a short link to
its web version in the reader's language, and a short link to stop.

Rendered once per language (the delivery worker keeps it for the edition); only the
stop link differs per recipient (``STOP_LINK``). The partner's preview shows it with its
length as GOV.UK Notify bills it (``feedback.delivery.sms``).
"""

from __future__ import annotations

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


def sms_text(edition, language_code: str, read_link: str) -> str:
    """The text message for ``edition`` in one language, with ``STOP_LINK`` where each
    recipient's unsubscribe link goes. Titles are checked translations (machine drafts
    only where the partner allows them), else the original."""
    audience = edition.audience
    language = get_language(language_code) or get_language("en")
    sender = audience.sender_name or current_app.config["SERVICE_NAME"]
    items = list(edition.items or [])
    with force_locale(language.babel_locale):
        lines = [f"{sender}:"]
        for item in items[:HEADLINES]:
            title = translate(item.get("title") or "", language,
                              allow_machine=audience.allow_machine_translation,
                              kind="text").text
            lines.append(f"- {_shorten(title)}")
        if len(items) > HEADLINES:
            more = len(items) - HEADLINES
            lines.append(ngettext("and %(num)d more", "and %(num)d more", more))
        if not items:
            lines.append(_("Nothing new this time."))
        lines.append(_("Read it: %(link)s", link=read_link))
        lines.append(_("Stop: %(link)s or reply STOP", link=STOP_LINK))
    return "\n".join(lines)


def personalise_sms(text: str, stop_link: str) -> str:
    return text.replace(STOP_LINK, stop_link)


def sample_link() -> str:
    """A short link as long as a real one, for the preview (makes no link)."""
    from feedback.subscriptions.sms import CODE_LENGTH, short_url

    return short_url("x" * CODE_LENGTH)


def preview(edition, language_code: str) -> tuple[str, SmsLength]:
    """The text message as a reader gets it (links as long as real ones) and its length."""
    link = sample_link()
    text = personalise_sms(sms_text(edition, language_code, link), link)
    return text, sms_length(text)
