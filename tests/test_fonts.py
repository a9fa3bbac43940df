"""Every script in the language registry has its web font, self-hosted as WOFF2 and
declared with its unicode-range and font-display: swap (scripts/copy_assets.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from feedback.core.languages import DEFAULT_LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "feedback" / "static" / "fonts"


def test_the_registry_names_a_font_for_each_non_latin_script():
    fonts = {language.code: (language.font, language.font_subset)
             for language in DEFAULT_LANGUAGES}
    assert fonts["ur"] == fonts["pa-Arab"] == ("noto-nastaliq-urdu", "arabic")  # Nastaliq
    assert fonts["ar"] == ("noto-naskh-arabic", "arabic")  # Naskh
    assert fonts["bn"][0] == "noto-sans-bengali" and fonts["ta"][0] == "noto-sans-tamil"
    assert fonts["pa-Guru"][0] == "noto-sans-gurmukhi" and fonts["gu"][0] == "noto-sans-gujarati"
    assert fonts["en"] == fonts["pl"] == fonts["so"] == ("", "")  # Latin: Arial covers it


def test_fonts_css_declares_each_font_for_its_language_only():
    css = (FONTS / "fonts.css").read_text(encoding="utf-8")
    faces = re.findall(r"@font-face \{(.*?)\}", css, re.S)
    assert len(faces) == 12  # six fonts, regular and bold
    for face in faces:
        assert "font-display: swap;" in face and "unicode-range: U+" in face
        name = re.search(r'url\("([^"]+)"\)', face).group(1)
        assert name.endswith(".woff2") and (FONTS / name).stat().st_size > 5000
        # No Latin subset: an English page never needs one of these fonts.
        assert "latin" not in name and "U+0000-00FF" not in face
    for language in DEFAULT_LANGUAGES:
        rule = f":lang({language.code}) {{"
        assert (rule in css) == bool(language.font), language.code
    assert css.count("font-synthesis-style: none") == 7  # no faux italics
    assert "html *:lang(ur) { line-height:" in css  # Nastaliq needs taller lines


def test_a_language_added_by_configuration_brings_its_font(tmp_path):
    extra = tmp_path / "languages.toml"
    extra.write_text('[[language]]\ncode = "ckb"\nname = "Sorani"\nnative_name = "کوردی"\n'
                     'direction = "rtl"\nfont = "noto-naskh-arabic"\nfont_subset = "arabic"\n',
                     encoding="utf-8")
    script = ("import sys; sys.path.insert(0, 'scripts'); import copy_assets as c; "
              "css, files = c.font_css(c.registry_languages()); print(css)")
    css = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True,
                         capture_output=True, text=True,
                         env={"FEEDBACK_LANGUAGES_FILE": str(extra), "PATH": ""}).stdout
    assert ':lang(ckb) { font-family: "Noto Naskh Arabic"' in css
