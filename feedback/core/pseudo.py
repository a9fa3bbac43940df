"""The pseudo-locale (``en-XA``): every catalog message accented and bracketed, so any
English left on a page was never translatable (see ``scripts/pseudo_locale.py``, which
builds its catalog from ``messages.pot``, and ``tests/translation/test_pseudo_locale.py``,
which crawls the site in it).

It is on in development and tests (``PSEUDO_LOCALE``) and can be chosen with
``/language?code=en-XA``, but it is never listed among the languages readers can pick.
Babel has no locale data for ``en_XA``, so ``register_babel_locale`` gives it British
English data with the names of months, days and languages bracketed too.
"""

from __future__ import annotations

import copy
from typing import Any

from feedback.core.languages import Language

PSEUDO_LANGUAGE = Language(code="en-XA", name="Pseudo-locale", native_name="⟦Þŝêûðô⟧")
OPEN, CLOSE = "⟦", "⟧"
ACCENTS = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                         "âƀĉðêƒĝĥîĵķļɱñôþǫŕŝţûṽŵẋŷẑÂƁĈÐÊƑĜĤÎĴĶĻṀÑÔÞǪŔŜŢÛṼŴẊŶẐ")


def _bracketed(value: Any) -> Any:
    if isinstance(value, str):
        return f"{OPEN}{value.translate(ACCENTS)}{CLOSE}"
    if isinstance(value, dict):
        return {key: _bracketed(item) for key, item in value.items()}
    return value


def register_babel_locale() -> None:
    """Let Babel parse ``en_XA``: en_GB's data, with names of months, days, day periods,
    languages, scripts and territories bracketed like the catalog (Babel's locale cache
    is the only way in)."""
    from babel import localedata

    if PSEUDO_LANGUAGE.babel_locale in localedata._cache:
        return
    data = copy.deepcopy(dict(localedata.load("en_GB")))
    for key in ("months", "days", "day_periods", "languages", "scripts", "territories"):
        data[key] = _bracketed(data[key])
    localedata._cache[PSEUDO_LANGUAGE.babel_locale] = data
    if hasattr(localedata.exists, "cache_clear"):  # Babel 2.18 memoises exists()
        localedata.exists.cache_clear()
