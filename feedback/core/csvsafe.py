"""Every CSV the app writes goes through here, so a spreadsheet never runs a cell.

Spreadsheet programs treat a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some, a tab or carriage return) as a formula: ``=HYPERLINK(...)`` or ``+cmd|...`` in a
title someone typed would run on the computer of whoever opens the download. As OWASP
advises ("CSV Injection"), such a cell is written with a single quote in front, which
spreadsheets show as text and do not evaluate. A cell that is just a number (``-3``,
``+44``, ``12.5``) is left alone: it cannot be a formula. Readers of the raw file see the
quote; the data dictionary on ``/open-data`` says so.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet should show it: text that would start a formula gets a
    leading ``'``. Anything that is not text is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` with every cell neutralised."""

    def __init__(self, stream: Any, **options: Any):
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: Any, **options: Any) -> SafeWriter:
    """The one way the app writes CSV."""
    return SafeWriter(stream, **options)
