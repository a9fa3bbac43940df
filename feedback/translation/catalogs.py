"""The interface catalogs (gettext) and who has checked each one."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
STATUS_FILE = TRANSLATIONS_DIR / "status.toml"


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
