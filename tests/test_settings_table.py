"""The README's settings table: one Markdown table, generated from feedback/config.py."""

from __future__ import annotations

import re
from pathlib import Path

from feedback.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every table in ``text``: runs of lines starting with ``|`` (a header row, a
    delimiter row, then body rows), each row as a list of cells."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


def test_the_readme_has_one_settings_table_matching_config_in_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tables = [table for table in markdown_tables(readme)
              if any(row[0].startswith("`FEEDBACK_") for row in table)]
    assert len(tables) == 1, "settings rows outside the one table: run scripts/settings_table.py"
    header, delimiter, *rows = tables[0]
    assert header == ["Variable", "Default", "What it does"]
    assert all(re.fullmatch(r":?-{3,}:?", cell) for cell in delimiter)
    assert [row[0] for row in rows] == [f"`FEEDBACK_{s.name}`" for s in SETTINGS], (
        "the README's settings table is stale: run scripts/settings_table.py")
    for row, setting in zip(rows, SETTINGS, strict=True):
        assert len(row) == 3 and row[2] == setting.help, setting.name


def test_the_generator_agrees_with_the_readme():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_table.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
