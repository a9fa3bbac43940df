"""Writing aids for editors: a reading-age estimate of a summary.

The Flesch-Kincaid grade, with words and sentences counted by ``textstat`` and syllables
by the ``pyphen`` hyphenation dictionaries that ship with it. (textstat's own syllable
count for English downloads the CMU dictionary at run time, which a server must not do.)
"""

from __future__ import annotations

import re
from functools import cache

import pyphen
import textstat

# A UK reading age is roughly the US school grade plus 5.
GRADE_TO_AGE = 5
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@cache
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_GB")


def _syllables(word: str) -> int:
    return len(_dictionary().positions(word)) + 1


def reading_age(text: str | None) -> int | None:
    """Estimated reading age (years) of ``text``, or None when there is too little text
    to judge."""
    words = _WORD.findall(text or "")
    if len(words) < 3:
        return None
    sentences = max(1, textstat.sentence_count(text))
    syllables = sum(_syllables(word.lower()) for word in words)
    grade = 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59
    return max(5, round(grade + GRADE_TO_AGE))
