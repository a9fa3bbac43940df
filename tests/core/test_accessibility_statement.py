"""The accessibility statement says what the tests really do."""

from __future__ import annotations

import json
from pathlib import Path

from feedback.pages.views import AXE_CORE_VERSION
from tests.browser.axe import WCAG_TAGS

ROOT = Path(__file__).resolve().parents[2]


def test_the_statement_names_the_axe_core_version_the_tests_run():
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    assert pinned == AXE_CORE_VERSION
    installed = ROOT / "node_modules" / "axe-core" / "package.json"
    if installed.exists():  # make setup installs it; the browser tests load it from there
        assert json.loads(installed.read_text())["version"] == AXE_CORE_VERSION


def test_the_statement_describes_the_checks(client):
    page = client.get("/accessibility").get_data(as_text=True)
    assert f"axe-core checker, version {AXE_CORE_VERSION}" in page
    assert "(WCAG) 2.2 at levels A and AA" in page
    # Every A and AA rule axe-core has, up to WCAG 2.2 (its only 2.2 tag is wcag22aa).
    assert {"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"} <= set(WCAG_TAGS)
    for claim in ("in English and in Urdu", "keyboard alone", "plain-text version",
                  "Chromium", "on every change", "Known limitations"):
        assert claim in page, claim


def test_the_statement_says_what_the_reflow_crawl_checks(client):
    """tests/browser/test_reflow.py: 320 px (= 1280 px at 400 %), seven roles, en and ur
    on every page kind, ar and bn on a sample, text spacing on the main pages."""
    from tests.browser.test_reflow import HEIGHT, ROLES, WIDTH

    page = client.get("/accessibility").get_data(as_text=True)
    assert (WIDTH, HEIGHT) == (320, 256) and len(ROLES) == 7
    for claim in ("seven kinds of user", "320 pixels wide", "1280 pixel wide screen shows at "
                  "400% zoom", "nothing has to be scrolled sideways", "Arabic and Bengali",
                  "their own area, which you can reach with the keyboard",
                  "no text is cut off", "runs right to left",
                  "larger text spacing on the main pages only"):
        assert claim in page, claim
    assert "do not test automatically what happens when you zoom" not in page
