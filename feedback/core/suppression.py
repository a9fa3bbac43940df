"""Small-number suppression for every published count (the NHS Digital rule).

Counts of 1 to 7 are shown as ``*``; other counts are rounded to the nearest 5; 0 stays 0.
Percentages are worked out from the rounded figures, never from the raw ones.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPRESSED = "*"
SUPPRESSION_THRESHOLD = 7
ROUND_TO = 5


@dataclass(frozen=True)
class PublishedCount:
    """A count as it may be published: ``value`` is None when it is suppressed."""

    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return SUPPRESSED if self.value is None else f"{self.value:,}"


def suppress_count(raw: int) -> PublishedCount:
    """Apply the rule to one raw count."""
    if raw < 0:
        raise ValueError("a count cannot be negative")
    if raw == 0:
        return PublishedCount(0)
    if raw <= SUPPRESSION_THRESHOLD:
        return PublishedCount(None)
    # Round half up (12.5 -> 15): Python's round() would round half to even.
    return PublishedCount(((raw + ROUND_TO // 2) // ROUND_TO) * ROUND_TO)


def published_percentage(part: PublishedCount, whole: PublishedCount) -> str:
    """A percentage from two published counts, or ``*`` when either is suppressed."""
    if part.value is None or whole.value is None:
        return SUPPRESSED
    if whole.value == 0:
        return "0%"
    return f"{round(100 * part.value / whole.value)}%"
