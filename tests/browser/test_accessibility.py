"""Every public and signed-in page of the foundation passes axe-core's WCAG 2.2 A and AA
checks, in English and in Urdu (right to left), and every form works by keyboard alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PUBLIC = ["/", "/organisations", "/datasets", "/services", "/sign-in",
          "/sign-in/check-your-email", "/accessibility", "/privacy", "/language",
          "/no-such-page"]


@pytest.mark.parametrize("language", ["en", "ur"])
def test_public_pages_pass_axe(demo, page, language):
    page.goto(demo(f"/language?code={language}&next=/"))
    paths = [*PUBLIC, "/organisations/riverside-hospitals",
             "/datasets/hospital-episode-statistics-hes", "/services/haemoglobinopathy-day-unit"]
    for path in paths:
        page.goto(demo(path))
        assert page.locator("html").get_attribute("lang") == language
        direction = "rtl" if language == "ur" else "ltr"
        assert page.locator("html").get_attribute("dir") == direction
        assert_accessible(page)


@pytest.mark.parametrize("language", ["en", "ur"])
def test_signed_in_pages_pass_axe(demo, page, language):
    sign_in(page, demo, "admin@riverside.example.org")
    page.goto(demo(f"/language?code={language}&next=/account"))
    for path in ["/account", "/account/delete", "/organisations/riverside-hospitals/edit",
                 "/organisations/riverside-hospitals/members",
                 "/organisations/riverside-hospitals/datasets/new",
                 "/organisations/riverside-hospitals/services/new"]:
        page.goto(demo(path))
        assert_accessible(page)


def test_admin_pages_pass_axe(demo, page):
    sign_in(page, demo, "admin@feedback-demo.example.org")
    for path in ["/admin/", "/admin/audit", "/admin/users", "/admin/outbox",
                 "/admin/organisations/new"]:
        page.goto(demo(path))
        assert_accessible(page)


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


def _demo_paths(live_server) -> dict:
    """Addresses of one of each domain's objects in the demo data."""
    from sqlalchemy import select

    from feedback.extensions import db
    from feedback.models import Membership, Organisation, User
    from feedback.priorities.models import PriorityRound
    from feedback.updates.models import Update, UpdateStatus

    with live_server.app.app_context():
        update = db.session.scalar(select(Update).where(
            Update.status == UpdateStatus.PUBLISHED).limit(1))
        round_ = db.session.scalar(select(PriorityRound).limit(1))
        partner = db.session.scalar(select(Organisation).where(
            Organisation.kind == "vcse").limit(1))
        partner_email = db.session.scalar(select(User.email).join(Membership).where(
            Membership.organisation_id == partner.id).limit(1))
        return {"update": update.slug, "round": round_.slug, "partner": partner.slug,
                "partner_email": partner_email}


@pytest.mark.parametrize("language", ["en", "ur"])
def test_every_domains_pages_pass_axe(demo, page, language):
    """Updates, priorities, subscriptions, newsletters, moderation, translation review and
    delivery, public and signed in, in English and in Urdu."""
    paths = _demo_paths(demo)
    page.goto(demo(f"/language?code={language}&next=/"))
    for path in ["/updates", f"/updates/{paths['update']}", "/priorities",
                 f"/priorities/rounds/{paths['round']}", "/subscribe", "/languages"]:
        page.goto(demo(path))
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
    page.goto(demo("/language?code=en&next=/"))  # sign_in finds the English labels
    sign_in(page, demo, paths["partner_email"])
    page.goto(demo(f"/language?code={language}&next=/following"))
    for path in ["/following", f"/partners/{paths['partner']}/newsletter",
                 f"/priorities/rounds/{paths['round']}/manage",
                 f"/priorities/rounds/{paths['round']}/paper",
                 f"/organisations/{paths['partner']}/translators"]:
        page.goto(demo(path))
        assert_accessible(page)
    page.goto(demo("/language?code=en&next=/"))
    sign_in(page, demo, "admin@feedback-demo.example.org")
    page.goto(demo(f"/language?code={language}&next=/moderation"))
    for path in ["/moderation", "/translation/review", "/admin/deliveries"]:
        page.goto(demo(path))
        assert_accessible(page)


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
