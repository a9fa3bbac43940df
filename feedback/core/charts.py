"""Server-rendered bar charts (shared by every domain).

Charts are drawn by the ``bar_chart`` macro in ``templates/_chart.html``: an accessible
figure with a title and description, always shown beside a table of the same figures. This
module turns figures into bars; no JavaScript is involved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

BAR_SPACE = 300  # the longest bar's width in SVG units


def bar_rows(items: Iterable[tuple[str, float | int | None, str]],
             space: int = BAR_SPACE) -> list[dict[str, Any]]:
    """Bars from ``(label, value, text)`` triples: ``value`` None (suppressed or unknown)
    draws no bar; ``text`` is what the bar's end and the table show. ``label`` is the
    bar's name: text, or translated text that carries its own language. ``percent`` is
    the bar's share of the longest (``width`` the same in ``space`` units)."""
    rows = [{"label": label, "value": value, "text": text} for label, value, text in items]
    top = max([r["value"] or 0 for r in rows] + [1])
    for row in rows:
        row["width"] = round(space * (row["value"] or 0) / top)
        row["percent"] = round(100 * (row["value"] or 0) / top, 1)
    return rows
