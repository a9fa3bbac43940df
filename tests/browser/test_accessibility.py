"""Error summaries, keyboard use and focus. Every page each role reaches is checked with
axe-core (WCAG 2.2 A and AA) in English and Urdu by the crawl in test_reflow.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser



def test_an_error_summary_passes_axe_and_links_to_the_field(demo, page):
    page.goto(demo("/sign-in"))
    page.get_by_role("button", name="Email me a sign-in link").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    assert_accessible(page)
    summary.get_by_role("link", name="Enter your email address").click()
    assert page.evaluate("document.activeElement.id") == "email"


def test_sign_in_works_by_keyboard_alone_with_visible_focus(demo, page):
    page.goto(demo("/sign-in"))
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    # Tab on until the email field has focus, checking each stop is visibly focused.
    for _ in range(30):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle !== 'none' || s.boxShadow !== 'none'"
            " || s.backgroundColor !== 'rgba(0, 0, 0, 0)'; })()")
        assert outline, "the focused element has no visible focus style"
        if page.evaluate("document.activeElement.id") == "email":
            break
    else:
        pytest.fail("the email field could not be reached by keyboard")
    page.keyboard.type("keyboard.user@example.org")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()


NHS_YELLOW = "rgb(255, 235, 59)"


def test_skip_link_focuses_main_and_header_controls_show_nhs_yellow_focus(demo, page):
    """The skip link moves focus to <main>; every link and button in the header (Sign out
    included) and the language control show NHS.UK's yellow focus, not a thin outline."""
    sign_in(page, demo, "moderator@feedback-demo.example.org")
    page.goto(demo("/"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "maincontent"
    controls = page.locator(".nhsuk-header a, .nhsuk-header button:visible, "
                            ".app-language-bar summary")
    assert controls.count() >= 6
    for index in range(controls.count()):
        control = controls.nth(index)
        if not control.is_visible():
            continue
        control.focus()
        shown = control.evaluate(
            "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.boxShadow]; }")
        label = control.inner_text().strip()
        assert shown[0] == NHS_YELLOW or NHS_YELLOW in shown[1], f"{label!r}: {shown}"
