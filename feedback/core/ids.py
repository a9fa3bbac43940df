"""Database ids from addresses and forms: whole numbers from 1 to 2,147,483,647.

Ids are 32-bit ``INTEGER`` columns, so a larger number makes PostgreSQL raise
``NumericValueOutOfRange`` (and SQLite an ``OverflowError`` past 2**63): a 500 where a
404 is right. The app replaces Flask's ``int`` URL converter with ``IdConverter``, so
every ``<int:...>`` route refuses out-of-range numbers before the view runs; ids typed
into forms go through ``parse_id``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``int`` in routes: 1 to ``MAX_ID``; anything else does not match (404)."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = 1,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(value: Any) -> int | None:
    """An id from form or query text, or None when it is not one."""
    text = str(value).strip() if value is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def init_app(app: Flask) -> None:
    """Install the converter; must run before any blueprint adds its rules."""
    app.url_map.converters["int"] = IdConverter
