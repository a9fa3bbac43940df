"""How long a text message is, the way GOV.UK Notify bills it.

A text goes in the GSM 03.38 alphabet (GSM-7) when every character is in it, else in
UCS-2 (Urdu, Bengali, Arabic, Tamil, Gujarati, Punjabi, emoji ...). A message that fits
in one text is 160 GSM-7 characters or 70 UCS-2 ones; longer messages are split into
parts ("fragments", what Notify charges for) of 153 or 67, the rest of each part being
the header that joins them again. The GSM-7 extension characters (``^ { } \\ [ ~ ] | €``
and form feed) take two places each. In UCS-2 a character outside the Basic Multilingual
Plane (most emoji) takes two.

Before counting, Notify replaces a few look-alike characters with GSM-7 ones (curly
quotes, dashes, the ellipsis, non-breaking and zero-width spaces), so they don't force a
message into UCS-2; ``downgrade`` does the same. Welsh letters with a circumflex (ŵ, ŷ
...) are not in GSM-7, so a Welsh text with them goes as UCS-2, as Notify sends it.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

# What Notify swaps for a GSM-7 character before sending (and counting).
DOWNGRADES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2002": " ", "\u2003": " ",
    "\u2009": " ", "\t": " ", "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "",
    "\ufeff": "",
}

SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # places used: GSM-7 extension characters and UCS-2 surrogates count 2
    fragments: int  # what Notify bills

    @property
    def unicode(self) -> bool:
        return self.encoding == "UCS-2"

    @property
    def per_fragment(self) -> int:
        """How many places each fragment holds at this length."""
        return SINGLE[self.encoding] if self.fragments <= 1 else PART[self.encoding]


def downgrade(text: str) -> str:
    """``text`` with Notify's look-alike replacements made."""
    return "".join(DOWNGRADES.get(character, character) for character in text)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_length(text: str) -> SmsLength:
    """The encoding, length and number of fragments of ``text`` as Notify sends it."""
    text = downgrade(text)
    if is_gsm7(text):
        encoding = "GSM-7"
        characters = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    else:
        encoding = "UCS-2"
        characters = len(text.encode("utf-16-le")) // 2
    if characters == 0:
        fragments = 0
    elif characters <= SINGLE[encoding]:
        fragments = 1
    else:
        fragments = -(-characters // PART[encoding])
    return SmsLength(encoding, characters, fragments)
