"""The interface catalogs (gettext) and who has checked each one."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
STATUS_FILE = TRANSLATIONS_DIR / "status.toml"
LEAKS_FILE = TRANSLATIONS_DIR / "leaks.toml"


@dataclass(frozen=True)
class CatalogStatus:
    code: str
    status: str  # "draft" or "reviewed"
    reviewed_by: str = ""
    reviewed_on: str = ""
    note: str = ""

    @property
    def reviewed(self) -> bool:
        return self.status == "reviewed"


def catalog_statuses() -> dict[str, CatalogStatus]:
    """Each catalog's review status from ``feedback/translations/status.toml``."""
    if not STATUS_FILE.exists():
        return {}
    with STATUS_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    return {code: CatalogStatus(code, entry.get("status", "draft"),
                                entry.get("reviewed_by", ""), entry.get("reviewed_on", ""),
                                entry.get("note", ""))
            for code, entry in data.items()}


@dataclass(frozen=True)
class CatalogCoverage:
    translated: int
    total: int
    leaks: int = 0  # interface text the pseudo-locale crawl found outside every catalog

    @property
    def complete(self) -> bool:
        return self.translated == self.total and not self.leaks

    @property
    def share(self) -> float:
        """The share translated, rounded down to whole percent so 99.9% never shows
        as 100%. Text found outside the catalogs counts as untranslated."""
        whole = self.total + self.leaks
        return math.floor(self.translated * 100 / whole) / 100 if whole else 1.0


def recorded_leaks() -> dict[str, int]:
    """What the last pseudo-locale crawl found (``leaks.toml``, kept true by
    ``tests/translation/test_pseudo_locale.py``)."""
    if not LEAKS_FILE.exists():
        return {}
    with LEAKS_FILE.open("rb") as handle:
        return tomllib.load(handle)


@cache
def catalog_coverage() -> dict[str, CatalogCoverage]:
    """How many of the interface's messages (``messages.pot``) each catalog translates,
    keyed by Babel locale (``pa_Guru``). Read once: catalogs change only on deploy."""
    template = TRANSLATIONS_DIR / "messages.pot"
    if not template.exists():
        return {}
    with template.open("rb") as handle:
        wanted = {_key(message) for message in read_po(handle) if message.id}
    leaks = recorded_leaks().get("interface_leaks", 0)
    coverage = {}
    for path in sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        translated = {_key(message) for message in catalog
                      if message.id and not message.fuzzy and _has_text(message.string)}
        coverage[path.parts[-3]] = CatalogCoverage(len(wanted & translated), len(wanted),
                                                   leaks)
    return coverage


def _key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _has_text(string) -> bool:
    return all(string) if isinstance(string, (tuple, list)) else bool(string)
