"""Build the pseudo-locale catalog (``en_XA``) from ``messages.pot``.

Every message becomes accented English between ``⟦`` and ``⟧`` ("Sign in" ->
"⟦Ŝîĝñ îñ⟧"), so a page rendered in it shows at a glance, and a test can prove, which
words did not come from a catalog. Placeholders (``%(name)s``, ``%s``, ``{name}``),
HTML tags and entities are kept as they are; plural messages get both English forms.

Run by ``make setup`` and ``make translations-compile``; the output is not committed
(``feedback/translations/en_XA/`` is in ``.gitignore``). It is only offered when
``FEEDBACK_PSEUDO_LOCALE`` is on (development and tests), never in the language picker.

    python scripts/pseudo_locale.py [--translations feedback/translations]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from feedback.core.pseudo import ACCENTS, CLOSE, OPEN, PSEUDO_LANGUAGE

LOCALE = PSEUDO_LANGUAGE.babel_locale

# Kept as they are: Python %-placeholders, {format} fields, HTML tags and entities.
PROTECTED = re.compile(
    r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]"
    r"|\{[^{}]*\}"
    r"|<[^>]*>"
    r"|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);"
)


def pseudo(text: str) -> str:
    """``text`` accented and bracketed, its placeholders, tags and entities untouched."""
    if not text:
        return text
    parts, position = [], 0
    for match in PROTECTED.finditer(text):
        parts.append(text[position:match.start()].translate(ACCENTS))
        parts.append(match.group(0))
        position = match.end()
    parts.append(text[position:].translate(ACCENTS))
    return f"{OPEN}{''.join(parts)}{CLOSE}"


def build(translations: Path) -> Path:
    """Write ``<translations>/en_XA/LC_MESSAGES/messages.mo`` (no ``.po``: nothing to
    review, and the catalog coverage on /languages lists real catalogs only)."""
    with (translations / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    catalog = Catalog(locale=LOCALE, project="Feedback Loop (pseudo-locale)",
                      fuzzy=False)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, (tuple, list)):
            string = tuple(pseudo(form) for form in message.id)  # English: one, other
        else:
            string = pseudo(message.id)
        catalog.add(message.id, string, flags=message.flags - {"fuzzy"},
                    context=message.context)
    folder = translations / LOCALE / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return folder / "messages.mo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--translations", type=Path,
                        default=Path(__file__).resolve().parent.parent / "feedback" /
                        "translations")
    args = parser.parse_args()
    path = build(args.translations)
    print(f"pseudo-locale written to {path}")


if __name__ == "__main__":
    main()
