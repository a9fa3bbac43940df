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

from feedback.core.languages import Language, get_language
from feedback.core.markdown import render_markdown
from feedback.core.urls import base_url
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


@dataclass
class RenderedVersion:
    language: str
    subject: str
    html: str
    text: str
    greetings: dict[str, str]
    missing_translations: list[str]


def labelled_title(label: str | None, title: str, language: str) -> str:
    """A priority-news title with its label, in the reader's language."""
    if not label:
        return title
    with force_locale((get_language(language) or get_language("en")).babel_locale):
        if label == "response":
            return _("Response: %(title)s", title=title)
        if label == "results":
            return _("Results: %(title)s", title=title)
        if label == "voting":
            return _("Voting is open: %(title)s", title=title)
    return title


def _localise_items(items: list[dict], language: str,
                    allow_machine: bool) -> tuple[list[dict], list[str]]:
    missing: list[str] = []
    localised = []
    for item in items:
        copy = dict(item)
        for name in ("title", "summary"):
            result = localised_text(item.get(name) or "", language,
                                    source_language=item.get("language") or "en",
                                    key=f"{item.get('kind')}:{item.get('id')}:{name}",
                                    allow_machine=allow_machine)
            copy[name] = result.text
            copy[f"{name}_machine"] = result.machine
            if result.missing:
                missing.append(f"{item.get('kind')} “{item.get('title')}”: {name}")
        copy["title"] = labelled_title(item.get("label"), copy["title"], language)
        localised.append(copy)
    return localised, missing


def render_version(audience, edition, items: list[dict], language_code: str) -> RenderedVersion:
    """Render one language version of an edition, with recipient placeholders."""
    language: Language = get_language(language_code) or get_language("en")
    allow_machine = audience.allow_machine_translation
    localised_items, missing = _localise_items(items, language.code, allow_machine)
    intro = localised_text(audience.intro, language.code, key=f"audience:{audience.id}:intro",
                           kind="markdown", allow_machine=allow_machine)
    outro = localised_text(audience.outro, language.code, key=f"audience:{audience.id}:outro",
                           kind="markdown", allow_machine=allow_machine)
    for label, part in (("introduction", intro), ("closing words", outro)):
        if part.missing:
            missing.append(f"newsletter {label}")
    env = current_app.jinja_env
    base = base_url()
    with force_locale(language.babel_locale):
        subject = _("%(name)s, %(period)s", name=audience.name,
                    period=period_label(audience, edition.until))
        context: dict[str, Any] = {
            "audience": audience, "edition": edition, "items": localised_items,
            "language": language, "subject": subject, "service_name":
            current_app.config["SERVICE_NAME"], "base_url": base,
            "intro_html": intro.html or render_markdown(intro.text),
            "outro_html": outro.html or render_markdown(outro.text),
            "intro_text": intro.text, "outro_text": outro.text,
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
