"""Choosing the language of each response."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from babel.core import get_global
from flask import current_app, g, has_request_context, request, session
from flask_login import current_user

from feedback.core.languages import Language, enabled_languages, get_language

SESSION_KEY = "language"


def current_language() -> Language:
    """The reader's language: their choice this session, then their profile, then the
    browser's Accept-Language, then the site default."""
    if not has_request_context():  # a job or a CLI command: the site default
        return get_language(current_app.config["DEFAULT_LANGUAGE"]) or enabled_languages()[0]
    if g.get("language_override") is not None:  # a page printed in a chosen language
        return g.language_override
    # Worked out once per request (pages ask dozens of times); keyed by the session's
    # choice, so changing language mid-request is seen at once.
    remembered = g.get("current_language")
    if remembered is not None and remembered[0] == session.get(SESSION_KEY):
        return remembered[1]
    language = _choose_language()
    g.current_language = (session.get(SESSION_KEY), language)
    return language


def _choose_language() -> Language:
    chosen = get_language(session.get(SESSION_KEY))
    if chosen is None and getattr(current_user, "is_authenticated", False):
        chosen = get_language(current_user.language)
    if chosen is None:
        chosen = match_accept_language(request.accept_languages.values(), enabled_languages())
    return chosen or get_language(current_app.config["DEFAULT_LANGUAGE"]) or enabled_languages()[0]


def _with_script(tag: str) -> str | None:
    """``pa-PK`` -> ``pa-Arab``, ``pa`` -> ``pa-Guru`` (CLDR likely subtags), else None."""
    parts = tag.replace("_", "-").split("-")
    key = "_".join([parts[0].lower()] + [part.title() if len(part) == 4 else part.upper()
                                        for part in parts[1:]])
    likely = get_global("likely_subtags").get(key)
    if not likely:
        return None
    parts = likely.split("_")
    if len(parts) >= 2 and len(parts[1]) == 4:
        return f"{parts[0]}-{parts[1]}"
    return None


def match_accept_language(accepted: Iterable[str],
                          languages: Sequence[Language]) -> Language | None:
    """The first accepted tag (best first) that names an enabled language exactly, by
    its likely script (``pa-PK`` is Shahmukhi), or by its primary language."""
    by_code = {language.code.lower(): language for language in languages}
    for tag in accepted:
        tag = tag.strip().lower().replace("_", "-")
        if not tag or tag == "*":
            continue
        if tag in by_code:
            return by_code[tag]
        scripted = _with_script(tag)
        if scripted and scripted.lower() in by_code:
            return by_code[scripted.lower()]
        primary = tag.split("-", 1)[0]
        if primary in by_code:
            return by_code[primary]
        scripted = _with_script(primary)
        if scripted and scripted.lower() in by_code:
            return by_code[scripted.lower()]
        same_language = [lang for lang in languages if lang.primary.lower() == primary]
        if same_language:
            return same_language[0]
    return None


def select_locale() -> str:
    return current_language().babel_locale
