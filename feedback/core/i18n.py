"""Choosing the language of each response."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import flask_babel
from babel.core import get_global
from flask import current_app, request, session
from flask.globals import _cv_app, _cv_request
from flask_babel.speaklater import LazyString
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from feedback.core.languages import Language, enabled_languages, get_language

SESSION_KEY = "language"


def current_language() -> Language:
    """The reader's language: their choice this session, then their profile, then the
    browser's Accept-Language, then the site default."""
    request_context = _cv_request.get(None)
    if request_context is None:  # a job or a CLI command: the site default
        return get_language(current_app.config["DEFAULT_LANGUAGE"]) or enabled_languages()[0]
    # A page asks for every translated field (a hundred times and more), so this reads
    # the request's ``g`` and session straight from their context variables: through
    # the ``g`` and ``session`` proxies it cost more than the rest of the lookup.
    request_g = _cv_app.get().g
    override = getattr(request_g, "language_override", None)
    if override is not None:  # a page printed in a chosen language
        return override
    return _visitor_language(request_context, request_g)


def visitor_language() -> Language:
    """The reader's language, leaving aside a language one page was asked for (an API's
    or a print kit's ``?lang=``, which is in the address). The page cache keys on it."""
    return _visitor_language(_cv_request.get(), _cv_app.get().g)


def _visitor_language(request_context, request_g) -> Language:
    # Worked out once per request; keyed by the session's choice, so changing language
    # mid-request is seen at once.
    chosen = request_context.session.get(SESSION_KEY)
    remembered = getattr(request_g, "current_language", None)
    if remembered is not None and remembered[0] == chosen:
        return remembered[1]
    language = _choose_language()
    request_g.current_language = (chosen, language)
    return language


def _choose_language() -> Language:
    chosen = get_language(session.get(SESSION_KEY))
    if chosen is None and getattr(current_user, "is_authenticated", False):
        chosen = get_language(current_user.language)
    return chosen or browser_language(request.headers.get("Accept-Language", ""))


def browser_language(accept_language: str) -> Language:
    """The language of a visitor who has chosen none: the best match for their browser's
    ``Accept-Language`` header, else the site default. The page cache answers visitors
    with no session from this alone (``feedback.core.caching``)."""
    accepted = parse_accept_header(accept_language, LanguageAccept).values()
    chosen = match_accept_language(accepted, enabled_languages())
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


def request_translations():
    """Flask-Babel's translations for this request, looked up once per locale (its own
    ``get_translations`` finds the context, the locale and the catalog again on every
    string, and a page has dozens). A changed locale (``refresh()``,
    ``force_locale``) is a new Locale object, so it is looked up again."""
    if _cv_request.get(None) is None:
        return flask_babel.get_translations()
    request_g = _cv_app.get().g  # as in current_language: no proxies for every string
    remembered = getattr(request_g, "babel_translations_for", None)
    if remembered is not None:
        locale = getattr(getattr(request_g, "_flask_babel", None), "babel_locale", None)
        if locale is not None and remembered[0] is locale:
            return remembered[1]
    translations = flask_babel.get_translations()
    request_g.babel_translations_for = (flask_babel.get_locale(), translations)
    return translations


def install_template_gettext(app) -> None:
    """Templates' ``_``/``ngettext`` through ``request_translations`` (the same
    catalogs and the same newstyle escaping as Flask-Babel's)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n))


def lazy_text(value: object) -> str:
    """``str(value)`` for a label made with ``lazy_gettext`` (a kind, a status), through
    the request's catalog (``request_translations``): the same text, without Flask-Babel
    finding the context, the locale and the catalog again for each of a list's labels.
    Anything else (a label with variables, no request) is ``str(value)``."""
    # LazyString keeps what it was made with in private attributes: read them with
    # defaults, so another Flask-Babel version falls back to str(), never fails.
    args = getattr(value, "_args", ())
    if (isinstance(value, LazyString) and getattr(value, "_func", None) is flask_babel.gettext
            and not getattr(value, "_kwargs", True) and len(args) == 1
            and _cv_request.get(None) is not None):
        return request_translations().ugettext(args[0])
    return str(value)
