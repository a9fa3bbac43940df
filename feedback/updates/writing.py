"""Writing aids for editors: a reading-age estimate of a summary.

The Flesch-Kincaid grade, with syllables counted by the ``pyphen`` hyphenation
dictionaries that ship with it, and sentences by the small rule below (the one textstat
uses, without its 14 MB of nltk).
"""

from __future__ import annotations

import re
from functools import cache

import pyphen

# A UK reading age is roughly the US school grade plus 5.
GRADE_TO_AGE = 5
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# A sentence runs from a word to its closing ., ! or ? (or the end of the text).
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
_TOKEN = re.compile(r"\w")


def sentence_count(text: str) -> int:
    """Sentences in ``text``, at least 1. A "sentence" of one or two words ("Dr.",
    "e.g.", "Yes.") is not counted, so abbreviations don't shorten the sentences."""
    sentences = _SENTENCE.findall(text)
    short = sum(1 for sentence in sentences
                if sum(1 for token in sentence.split() if _TOKEN.search(token)) <= 2)
    return max(1, len(sentences) - short)


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
    sentences = sentence_count(text)
    syllables = sum(_syllables(word.lower()) for word in words)
    grade = 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59
    return max(5, round(grade + GRADE_TO_AGE))
