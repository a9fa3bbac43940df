"""Copy NHS.UK frontend's built CSS, JS and images into feedback/static/nhsuk.

The @font-face rules are dropped: they load the Frutiger font from assets.nhs.uk, which
is licensed for NHS.UK services only, and a page here makes no third-party requests (the
CSP allows fonts from 'self' only). Text falls back to Arial, as NHS.UK frontend intends.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
TARGET = ROOT / "feedback" / "static" / "nhsuk"


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE} is missing: run `npm ci` first", file=sys.stderr)
        return 1
    shutil.rmtree(TARGET, ignore_errors=True)
    TARGET.mkdir(parents=True)
    css = (SOURCE / "nhsuk-frontend.min.css").read_text(encoding="utf-8")
    css = re.sub(r"@font-face\s*\{[^}]*\}", "", css)
    (TARGET / "nhsuk-frontend.min.css").write_text(css, encoding="utf-8")
    shutil.copy2(SOURCE / "nhsuk-frontend.min.js", TARGET / "nhsuk-frontend.min.js")
    shutil.copytree(SOURCE / "assets", TARGET / "assets")
    (TARGET / ".copied").touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
