"""Text message lengths as GOV.UK Notify bills them (feedback.delivery.sms)."""

from __future__ import annotations

import pytest

from feedback.delivery.sms import downgrade, sms_length


@pytest.mark.parametrize(("text", "encoding", "characters", "fragments"), [
    ("", "GSM-7", 0, 0),
    ("Hello", "GSM-7", 5, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    # The extension characters take two places each.
    ("€" * 80, "GSM-7", 160, 1),
    ("€" * 81, "GSM-7", 162, 2),
    ("[a]{b}", "GSM-7", 10, 1),
    ("£10 à Århus", "GSM-7", 11, 1),
    # Urdu, Bengali, Welsh with a circumflex and emoji need UCS-2.
    ("آپ کی رائے", "UCS-2", 10, 1),
    ("ب" * 70, "UCS-2", 70, 1),
    ("ব" * 71, "UCS-2", 71, 2),
    ("ব" * 134, "UCS-2", 134, 2),
    ("ব" * 135, "UCS-2", 135, 3),
    ("Croeso i\u2019r \u0175yl", "UCS-2", 14, 1),
    ("Hi 👋", "UCS-2", 5, 1),
    ("x" * 159 + "ç", "UCS-2", 160, 3),
])
def test_encoding_characters_and_fragments(text, encoding, characters, fragments):
    length = sms_length(text)
    assert (length.encoding, length.characters, length.fragments) == (
        encoding, characters, fragments)


def test_look_alike_punctuation_stays_gsm7_as_notify_sends_it():
    assert downgrade("\u201cStop\u201d \u2013 it\u2019s done\u2026") == "\"Stop\" - it's done..."
    length = sms_length("\u201cStop\u201d \u2013 it\u2019s done\u2026")
    assert length.encoding == "GSM-7" and length.characters == 21


def test_per_fragment_follows_single_or_joined_parts():
    assert sms_length("a" * 100).per_fragment == 160
    assert sms_length("a" * 200).per_fragment == 153
    assert sms_length("ب" * 10).per_fragment == 70
    assert sms_length("ب" * 100).per_fragment == 67
    assert sms_length("ب").unicode
