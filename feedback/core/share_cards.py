"""Share cards: the 1200 x 630 PNG behind a page's ``og:image``.

A card is the site's name on an NHS blue band and a title in large type, drawn with the
fonts the site ships (Noto, from Fontsource: ``scripts/copy_assets.py`` copies them, bold,
with ``share-cards.json``, which gives each file's unicode range). Each character is drawn
with the first font that covers it: the language's script font, then Noto Sans Latin.
Complex scripts (Arabic, Nastaliq, the Indic scripts) need Pillow's Raqm layout (HarfBuzz
and FriBiDi) to be shaped. Pillow's wheels bring Raqm and HarfBuzz but load FriBiDi from
the system (``libfribidi0`` on Debian); without it, or without the fonts, a card in those
scripts leaves the title out rather than drawing broken glyphs.

Cards are drawn once per text and language and kept on disk (``SHARE_CARD_DIR``); the
file's name is a hash of what is drawn, which is also the response's ETag.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app
from PIL import Image, ImageDraw, ImageFont, features

from feedback.core.languages import Language

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 1200, 630
MARGIN = 80
BAND = 120  # the blue band with the site's name
NHS_BLUE = "#005eb8"
TEXT = "#212b32"
SIZES = (72, 64, 56, 48, 40)  # the title's type: the largest that fits
MAX_LINES = 4
DESIGN = "1"  # change to redraw every card
FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
MANIFEST = FONTS / "share-cards.json"
LATIN = Language(code="en", name="English", native_name="English")  # the site's name


@dataclass(frozen=True)
class Face:
    path: Path
    ranges: tuple[tuple[int, int], ...]

    def covers(self, char: str) -> bool:
        code = ord(char)
        return any(low <= code <= high for low, high in self.ranges)


def _ranges(text: str) -> tuple[tuple[int, int], ...]:
    """``U+0600-06FF,U+200C`` as number pairs."""
    pairs = []
    for part in text.split(","):
        low, _dash, high = part.strip().removeprefix("U+").partition("-")
        pairs.append((int(low, 16), int(high or low, 16)))
    return tuple(pairs)


@cache
def _manifest() -> dict | None:
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning("share cards: %s is missing (run make setup); cards have no title",
                    MANIFEST)
        return None


def can_shape() -> bool:
    """Pillow has Raqm: complex scripts are shaped (joined, reordered) correctly."""
    return bool(features.check("raqm"))


def faces(language: Language) -> list[Face] | None:
    """The fonts for text in ``language``, first choice first; None when the card must
    leave the text out (no fonts, or a script Pillow cannot shape here)."""
    manifest = _manifest()
    if manifest is None:
        return None
    latin = [Face(FONTS / f["file"], _ranges(f["ranges"])) for f in manifest["latin"]]
    script = manifest["languages"].get(language.code)
    if script is None:
        return latin if not language.font else None
    if not can_shape():
        return None
    return [Face(FONTS / script["file"], _ranges(script["ranges"])), *latin]


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if can_shape() else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(path), size, layout_engine=engine)


def _runs(text: str, stack: list[Face]) -> list[tuple[str, Face]]:
    """``text`` split into runs that one font draws. Spaces and marks stay with the run
    they are in, so a script's words are shaped whole."""
    runs: list[tuple[str, Face]] = []
    for char in text:
        keep = runs and (char.isspace() or unicodedata.category(char).startswith("M")
                         or runs[-1][1].covers(char))
        if keep:
            runs[-1] = (runs[-1][0] + char, runs[-1][1])
            continue
        face = next((f for f in stack if f.covers(char)), stack[-1])
        runs.append((char, face))
    return runs


def _length(runs: list[tuple[str, Face]], size: int, rtl: bool) -> float:
    direction = "rtl" if rtl else "ltr"
    return sum(_font(face.path, size).getlength(text, direction=direction)
               for text, face in runs)


def _leading(stack: list[Face], size: int) -> tuple[int, int]:
    """Line spacing and the baseline's distance below a line's top, from the script
    font's metrics (Nastaliq reaches far higher than Noto Sans)."""
    ascent, descent = _font(stack[0].path, size).getmetrics()
    leading = round(max(1.25 * size, 0.75 * (ascent + descent)))
    return leading, round(leading * ascent / (ascent + descent))


def _fits(text: str, stack: list[Face], size: int, rtl: bool) -> bool:
    return _length(_runs(text, stack), size, rtl) <= WIDTH - 2 * MARGIN


def _lines(text: str, stack: list[Face], size: int, rtl: bool) -> list[str]:
    """Whole words, as many on a line as fit."""
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and _fits(trial, stack, size, rtl):
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def layout(text: str, stack: list[Face], rtl: bool) -> tuple[list[str], int]:
    """The largest size at which the title fits the card; at the smallest, the lines that
    fit, the last ending with an ellipsis."""
    room = HEIGHT - BAND - 16 - 40
    for size in SIZES:
        lines = _lines(text, stack, size, rtl)
        fits = all(_fits(line, stack, size, rtl) for line in lines)
        if fits and len(lines) <= min(MAX_LINES, room // _leading(stack, size)[0]):
            return lines, size
    size = SIZES[-1]
    most = max(1, min(MAX_LINES, room // _leading(stack, size)[0]))
    lines = _lines(text, stack, size, rtl)
    cut = len(lines) > most or not all(_fits(line, stack, size, rtl) for line in lines)
    lines = lines[:most]
    if cut:
        while lines[-1] and not _fits(lines[-1] + " …", stack, size, rtl):
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + " …"
    return lines, size


def _draw_line(draw: ImageDraw.ImageDraw, line: str, stack: list[Face], size: int,
               baseline: int, rtl: bool, fill: str) -> None:
    """One line, a run per font. A right-to-left line draws its runs from the right; each
    run is laid out right-to-left too, so numbers and Latin words inside it keep their
    order (FriBiDi) and punctuation sits where the sentence puts it."""
    runs = _runs(line, stack)
    direction = "rtl" if rtl else "ltr"
    x = WIDTH - MARGIN - _length(runs, size, rtl) if rtl else MARGIN
    for text, face in (reversed(runs) if rtl else runs):
        font = _font(face.path, size)
        draw.text((x, baseline), text, font=font, fill=fill, direction=direction,
                  anchor="ls")
        x += font.getlength(text, direction=direction)


def render(title: str, language: Language, site_name: str) -> bytes:
    """The card as PNG bytes. ``title`` is in ``language``; the site's name is Latin."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, BAND), fill=NHS_BLUE)
    draw.rectangle((0, HEIGHT - 16, WIDTH, HEIGHT), fill=NHS_BLUE)
    latin = faces(LATIN)
    if latin:
        _draw_line(draw, site_name, latin, 44, BAND // 2 + 16, False, "white")
    stack = faces(language)
    if stack and title.strip():
        rtl = language.is_rtl
        lines, size = layout(" ".join(title.split()), stack, rtl)
        leading, ascent = _leading(stack, size)
        top = BAND + (HEIGHT - BAND - 16 - leading * len(lines)) // 2
        for number, line in enumerate(lines):
            _draw_line(draw, line, stack, size, top + number * leading + ascent, rtl, TEXT)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def card_key(*parts: str) -> str:
    """The name of a card's file and its ETag: a hash of what is drawn on it."""
    text = "\x1f".join((DESIGN, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def card_file(title: str, language: Language, site_name: str) -> tuple[Path, str]:
    """The card's file, drawn the first time it is asked for, and its key."""
    shaped = "raqm" if can_shape() else "basic"
    key = card_key(title, language.code, site_name, shaped)
    folder = Path(current_app.config["SHARE_CARD_DIR"])
    path = folder / f"{key}.png"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        data = render(title, language, site_name)
        # Write then rename: a reader never sees half a file, and two workers drawing
        # the same card write the same bytes.
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, path)
    return path, key
