"""Switching to Urdu and back in a real browser: the page turns right to left, in
Urdu, and back again, with a screenshot of each."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_switch_to_urdu_and_back(live_server, page, tmp_path):
    page.goto(live_server("/languages"))
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_attribute("dir", "ltr")

    page.locator(".app-language-bar summary").click()  # one control: the list opens from it
    page.locator(".app-language-bar").get_by_role("link", name="اردو").click()
    expect(html).to_have_attribute("lang", "ur")
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("زبانیں")  # "Languages"
    # The layout mirrors: the main column's text starts on the right.
    assert page.locator("main").evaluate("el => getComputedStyle(el).direction") == "rtl"
    page.screenshot(path=str(tmp_path / "languages-ur.png"), full_page=True)
    # Grid columns mirror too: the first column sits on the right.
    page.goto(live_server("/updates"))
    first, second = page.locator("main [class*='nhsuk-grid-column-']").all()[:2]
    assert first.bounding_box()["x"] > second.bounding_box()["x"]
    page.screenshot(path=str(tmp_path / "updates-ur.png"), full_page=True)
    page.goto(live_server("/languages"))
    assert (tmp_path / "languages-ur.png").stat().st_size > 0

    page.locator(".app-language-bar summary").click()
    page.locator(".app-language-bar").get_by_role("link", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(html).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Languages")
    page.screenshot(path=str(tmp_path / "languages-en.png"), full_page=True)
    assert (tmp_path / "languages-en.png").stat().st_size > 0
