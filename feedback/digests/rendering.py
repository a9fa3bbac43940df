"""Rendering an edition: once per language, then cheap per-recipient substitution.

Each language version is rendered from Jinja templates (HTML and plain text), the CSS is
inlined by css-inline, and ``lang``/``dir`` are set. Only three placeholders differ per
recipient: the greeting (with their name) and their two signed links.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from typing import Any

import css_inline
from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape

from feedback.core.languages import Language, get_language
from feedback.core.urls import base_url
from feedback.translation.display import Localised
from feedback.translation.display import localised_text as translate

GREETING = "@@GREETING@@"
NAME = "@@NAME@@"
UNSUBSCRIBE_URL = "@@UNSUBSCRIBE_URL@@"
MANAGE_URL = "@@MANAGE_URL@@"

_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@dataclass(frozen=True)
class LocalisedText:
    text: str
    missing: bool  # no checked translation yet: the source text is shown
    machine: bool = False  # machine translated and not yet reviewed by a person
    html: str | None = None  # for Markdown: the rendered, sanitised HTML


def localised_text(text: str, language: str, *, source_language: str = "en",
                   key: str = "", kind: str = "text",
                   allow_machine: bool = False) -> LocalisedText:
    """``text`` (``kind`` "text" or "markdown") in ``language``, from the translation
    memory: a checked translation, else (only when ``allow_machine``) a labelled machine
    draft, else the source text, reported as missing."""
    if not text or language == source_language:
        return LocalisedText(text, missing=False)
    result = translate(text, language, allow_machine=allow_machine, kind=kind)
    return LocalisedText(result.text, missing=result.fallback, machine=result.machine,
                         html=str(result.html) if kind == "markdown" else None)


# What a priority-news item is about (``priority_news``), said in the reader's language.
NEWS_LABELS = {"voting": _l("Voting is open"), "results": _l("Results of the vote"),
               "response": _l("Response to a research priority")}


@dataclass
class RenderedVersion:
    language: str
    subject: str
    html: str
    text: str
    greetings: dict[str, str]
    missing_translations: list[dict]


def describe_missing(entry: dict | str) -> str:
    """One part of an edition still waiting for a checked translation, in the editor's
    words and language ("The summary of “Shorter waits”"), never an internal label.
    Editions rendered before this wording kept a plain string, shown as it is."""
    if isinstance(entry, str):
        return entry
    part, title = entry.get("part"), entry.get("title", "")
    if part == "title":
        return _("The title “%(title)s”", title=title)
    if part == "summary":
        return _("The summary of “%(title)s”", title=title)
    if part == "intro":
        return _("Your introduction")
    return _("Your closing words")


def news_label(item: dict) -> str:
    """What a priority-news item is about, in the current language ("" for updates)."""
    label = NEWS_LABELS.get(item.get("news") or "")
    return str(label) if label else ""


def _localise_items(items: list[dict], language: Language,
                    allow_machine: bool) -> tuple[list[dict], list[dict]]:
    """Each item's title, summary and organisation as ``Localised`` blocks (shown by the
    ``email_block`` macro: lang/dir, machine label, "translation coming" note), and a
    list of what still waits for a checked translation."""
    missing: list[dict] = []
    localised = []
    for item in items:
        copy = dict(item)
        for name in ("title", "summary", "organisation"):
            result = translate(item.get(name) or "", language, allow_machine=allow_machine,
                               kind="text")
            copy[name] = result if result.text else None
            if result.fallback and name != "organisation":
                missing.append({"part": name, "title": item.get("title") or ""})
        copy["news"] = news_label(item)
        localised.append(copy)
    return localised, missing


def localised_items(edition, language: Language) -> list[dict]:
    """An edition's items as its web version and print leaflet show them: the same
    ``Localised`` blocks as the email (checked translations, machine drafts only if the
    audience allows them)."""
    return _localise_items(edition.items, language,
                           edition.audience.allow_machine_translation)[0]


def _audience_blocks(audience, language: Language, allow_machine: bool
                     ) -> tuple[Localised, Localised | None]:
    """The newsletter's name and sender as content blocks: a platform digest's are ours
    (in the reader's language), a partner's are their content (translated, or marked as
    the English they wrote)."""
    from feedback.subscriptions.services import PLATFORM_DIGEST_NAMES, audience_title

    if audience.is_platform and audience.name in PLATFORM_DIGEST_NAMES:
        name = audience_title(audience)
        ours = Localised(escape(name), name, language.code, language.direction,
                         escape(name), False, False, True)
        return ours, None
    name = translate(audience.name, language, allow_machine=allow_machine, kind="text")
    sender = (translate(audience.sender_name, language, allow_machine=allow_machine,
                        kind="text") if audience.sender_name else None)
    return name, sender


def render_version(audience, edition, items: list[dict], language_code: str) -> RenderedVersion:
    """Render one language version of an edition, with recipient placeholders."""
    language: Language = get_language(language_code) or get_language("en")
    allow_machine = audience.allow_machine_translation
    env = current_app.jinja_env
    base = base_url()
    with force_locale(language.babel_locale):
        localised_items, missing = _localise_items(items, language, allow_machine)
        intro, outro = (translate(text, language, allow_machine=allow_machine)
                        if (text or "").strip() else None
                        for text in (audience.intro, audience.outro))
        for label, part in (("intro", intro), ("outro", outro)):
            if part is not None and part.fallback:
                missing.append({"part": label})
        name, sender = _audience_blocks(audience, language, allow_machine)
        subject = _("%(name)s, %(period)s", name=name.text,
                    period=period_label(audience, edition.until))
        context: dict[str, Any] = {
            "audience": audience, "edition": edition, "items": localised_items,
            "language": language, "subject": subject, "service_name":
            current_app.config["SERVICE_NAME"], "base_url": base,
            "intro": intro, "outro": outro, "name": name, "sender": sender,
            "greeting": GREETING, "unsubscribe_url": UNSUBSCRIBE_URL,
            "manage_url": MANAGE_URL,
            "web_url": f"{base}/digests/editions/{edition.id}/{language.code}",
        }
        html = _INLINER.inline(env.get_template("digests/email.html").render(context))
        text = env.get_template("digests/email.txt").render(context)
        greetings = {"named": _("Hello %(name)s,", name=NAME), "anonymous": _("Hello,")}
    return RenderedVersion(language.code, subject, html, text, greetings, missing)


def period_label(audience, until) -> str:
    """"week of 16 November 2026" or "November 2026", in the current locale."""
    from datetime import timedelta

    if getattr(audience.cadence, "value", audience.cadence) == "monthly":
        return format_date(until, "MMMM yyyy")
    monday = until - timedelta(days=until.weekday())
    return _("week of %(date)s", date=format_date(monday, "d MMMM yyyy"))


def personalise(version, name: str, links: dict[str, str]) -> tuple[str, str]:
    """The HTML and text one recipient gets: the rendered version with their greeting and
    signed links put in. Nothing else is rendered per recipient."""
    greetings = version.greetings
    if name:
        greeting_text = greetings["named"].replace(NAME, name)
        greeting_html = greetings["named"].replace(NAME, html_lib.escape(name))
    else:
        greeting_text = greeting_html = greetings["anonymous"]

    def fill(body: str, greeting: str, escape: bool) -> str:
        unsubscribe, manage = links["unsubscribe"], links["manage"]
        if escape:
            unsubscribe, manage = html_lib.escape(unsubscribe), html_lib.escape(manage)
        return (body.replace(GREETING, greeting).replace(UNSUBSCRIBE_URL, unsubscribe)
                .replace(MANAGE_URL, manage))

    return fill(version.html, greeting_html, True), fill(version.text, greeting_text, False)
