"""Copy NHS.UK frontend's built CSS, JS and images into feedback/static/nhsuk, make its
right-to-left stylesheet, and copy the web fonts the language registry names.

The @font-face rules are dropped: they load the Frutiger font from assets.nhs.uk, which
is licensed for NHS.UK services only, and a page here makes no third-party requests (the
CSP allows fonts from 'self' only). Latin text falls back to Arial, as NHS.UK frontend
intends.

NHS.UK frontend sets margins, paddings, borders and positions with physical left/right
properties. `rtlcss` (npm) mirrors them into nhsuk-frontend.rtl.min.css, which right-to-left
pages load instead.

Fonts: each language in feedback/core/languages.toml (and FEEDBACK_LANGUAGES_FILE, if set)
may name a Fontsource package and subset. Only that subset's WOFF2 files, regular and bold,
are copied to feedback/static/fonts/, and fonts.css declares them with their
`unicode-range` and `font-display: swap`, and sets them for `:lang(code)`. A browser
downloads a font only for text in its range that it shows in that language, so an English
page downloads none of them. The scripts have no italics: faux italics are turned off.

Share cards (the PNG behind an update's og:image, feedback/core/share_cards.py) are drawn
with the same fonts, bold, plus the Latin subsets (latin, latin-ext) of one of them for
Latin text, digits and punctuation. share-cards.json lists each file with its
`unicode-range`, so the card can pick the font for each character. Pages never load the
Latin files (fonts.css doesn't name them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
TARGET = ROOT / "feedback" / "static" / "nhsuk"
FONTSOURCE = ROOT / "node_modules" / "@fontsource"
FONT_TARGET = ROOT / "feedback" / "static" / "fonts"
REGISTRY = ROOT / "feedback" / "core" / "languages.toml"
RTLCSS = ROOT / "node_modules" / "rtlcss" / "bin" / "rtlcss.js"
WEIGHTS = (400, 700)
FALLBACK = '"Frutiger W01", arial, sans-serif'
# Nastaliq hangs far above and below the line: it needs taller lines than NHS.UK sets.
LINE_HEIGHT = {"noto-nastaliq-urdu": "2.2"}
# Share cards' Latin text: Noto Sans, as it comes with a script package we already ship.
CARD_LATIN_PACKAGE = "noto-sans-bengali"
CARD_LATIN_SUBSETS = ("latin", "latin-ext")
CARD_WEIGHT = 700


def registry_languages() -> dict[str, dict]:
    """The registry's entries by code, with FEEDBACK_LANGUAGES_FILE's added or replacing."""
    by_code: dict[str, dict] = {}
    paths = [REGISTRY]
    if os.environ.get("FEEDBACK_LANGUAGES_FILE"):
        paths.append(Path(os.environ["FEEDBACK_LANGUAGES_FILE"]))
    for path in paths:
        with path.open("rb") as handle:
            for entry in tomllib.load(handle).get("language", []):
                by_code[entry["code"]] = entry
    return by_code


def font_css(languages: dict[str, dict]) -> tuple[str, list[Path]]:
    """fonts.css for the registry's fonts, and the WOFF2 files it needs."""
    faces: dict[tuple[str, str], str] = {}
    files: list[Path] = []
    rules: list[str] = []
    for code, entry in languages.items():
        package, subset = entry.get("font"), entry.get("font_subset")
        if not package:
            continue
        folder = FONTSOURCE / package
        if not folder.exists():
            raise SystemExit(f"{code}: font package @fontsource/{package} is not installed "
                             "(add it to package.json)")
        family = json.loads((folder / "metadata.json").read_text())["family"]
        ranges = json.loads((folder / "unicode.json").read_text())
        if subset not in ranges:
            raise SystemExit(f"{code}: @fontsource/{package} has no subset {subset!r} "
                             f"(it has {', '.join(ranges)})")
        if (package, subset) not in faces:
            blocks = []
            for weight in WEIGHTS:
                name = f"{package}-{subset}-{weight}-normal.woff2"
                files.append(folder / "files" / name)
                blocks.append(
                    "@font-face {\n"
                    f'  font-family: "{family}";\n  font-style: normal;\n'
                    f"  font-weight: {weight};\n  font-display: swap;\n"
                    f'  src: url("{name}") format("woff2");\n'
                    f"  unicode-range: {ranges[subset]};\n}}\n")
            faces[(package, subset)] = "".join(blocks)
        rules.append(f':lang({code}) {{ font-family: "{family}", {FALLBACK}; '
                     "font-synthesis-style: none; }\n")
        if package in LINE_HEIGHT:
            rules.append(f"html *:lang({code}) {{ line-height: {LINE_HEIGHT[package]}; }}\n")
    header = ("/* Made by scripts/copy_assets.py from the language registry: do not edit. "
              "Fonts: SIL Open Font License 1.1 (Noto, via Fontsource). */\n")
    return header + "".join(faces.values()) + "".join(rules), files


def card_fonts(languages: dict[str, dict]) -> tuple[dict, list[Path]]:
    """Share cards' fonts: the bold Latin files, and each script's bold file, with their
    unicode ranges (share-cards.json)."""
    files: list[Path] = []

    def entry(package: str, subset: str) -> dict:
        folder = FONTSOURCE / package
        ranges = json.loads((folder / "unicode.json").read_text())
        path = folder / "files" / f"{package}-{subset}-{CARD_WEIGHT}-normal.woff2"
        files.append(path)
        return {"file": path.name, "ranges": ranges[subset]}

    latin = [entry(CARD_LATIN_PACKAGE, subset) for subset in CARD_LATIN_SUBSETS]
    scripts = {code: entry(e["font"], e["font_subset"])
               for code, e in languages.items() if e.get("font")}
    return {"latin": latin, "languages": scripts}, list(dict.fromkeys(files))


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE} is missing: run `npm ci` first", file=sys.stderr)
        return 1
    shutil.rmtree(TARGET, ignore_errors=True)
    TARGET.mkdir(parents=True)
    css = (SOURCE / "nhsuk-frontend.min.css").read_text(encoding="utf-8")
    css = re.sub(r"@font-face\s*\{[^}]*\}", "", css)
    (TARGET / "nhsuk-frontend.min.css").write_text(css, encoding="utf-8")
    node = shutil.which("node")
    if node is None:
        print("node is missing (Node 20+ is needed for the assets)", file=sys.stderr)
        return 1
    # Fixed arguments: our own paths and the rtlcss installed by `npm ci`.
    subprocess.run([node, str(RTLCSS), "--silent", str(TARGET / "nhsuk-frontend.min.css"),  # noqa: S603
                    str(TARGET / "nhsuk-frontend.rtl.min.css")], check=True)
    shutil.copy2(SOURCE / "nhsuk-frontend.min.js", TARGET / "nhsuk-frontend.min.js")
    shutil.copytree(SOURCE / "assets", TARGET / "assets")

    shutil.rmtree(FONT_TARGET, ignore_errors=True)
    FONT_TARGET.mkdir(parents=True)
    fonts, files = font_css(registry_languages())
    for path in files:
        shutil.copy2(path, FONT_TARGET / path.name)
    (FONT_TARGET / "fonts.css").write_text(fonts, encoding="utf-8")
    manifest, card_files = card_fonts(registry_languages())
    for path in card_files:
        shutil.copy2(path, FONT_TARGET / path.name)
    (FONT_TARGET / "share-cards.json").write_text(json.dumps(manifest, indent=1),
                                                   encoding="utf-8")
    (TARGET / ".copied").touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
