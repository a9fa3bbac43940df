"""The reading-age estimate: the same figures as when textstat counted the sentences."""

from __future__ import annotations

import pytest

from feedback.updates.writing import reading_age, sentence_count


@pytest.mark.parametrize(("text", "age"), [
    ("The operationalisation of multidisciplinary interpretation provision necessitated "
     "comprehensive reconfiguration of departmental methodologies.", 38),
    ("People with sickle cell told us they waited too long for pain relief in A&E. We "
     "checked our records. Now most people get pain relief within 30 minutes.", 7),
    ("Pain relief for sickle cell crises in A&E is now much faster", 7),
    ("Add whichever demo updates are missing; returns how many were added.", 10),
    ("no punctuation at all here in this text", 7),
    ("One two. Three four five six. Seven", 6),
    ("It's the NHS's plan - don't worry; we're on it. Really? Yes!", 6),
    ("We used your data. Waits fell! Did it help? Yes.", 5),
    ("Dr. Smith saw 3.5 times more patients... e.g. in A&E. OK", 5),
    ("Clinic 12 opens 9am-5pm. 10,000 people used it in 2024.", 5),
])
def test_reading_age_keeps_its_figures(text, age):
    assert reading_age(text) == age


@pytest.mark.parametrize(("text", "count"), [
    ("", 1),
    ("No full stop", 1),
    ("We used your data. Waits fell to two weeks! Did it help you?", 3),
    ("Dr. Smith saw more patients. e.g. in A&E.", 1),  # "Dr." and "e.g." are not sentences
    ("Really? Yes! It worked for most people.", 1),
])
def test_sentences_of_one_or_two_words_are_not_counted(text, count):
    assert sentence_count(text) == count


def test_too_little_text_has_no_reading_age():
    assert reading_age("Two words") is None
    assert reading_age(None) is None
