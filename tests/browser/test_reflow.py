"""Phone first (issue 11): a crawl of every page each role can reach, at 320 CSS px wide.

For anonymous readers, a community member, an editor, an org admin, VCSE partner staff,
a moderator and a platform admin, in English and Urdu (and Arabic and Bengali on a
sample), every page:
- has no horizontal scrolling: ``document.documentElement.scrollWidth`` is at most the
  viewport's width. The viewport is 320 x 256 CSS px, which is also what a 1280 x 1024
  screen shows at 400 % zoom, so one crawl covers WCAG 1.4.10 both ways;
- has every scrollable region focusable (tabindex=0), with a role and a name;
- passes axe's WCAG 2.2 A/AA checks (once per page kind and language).
With the WCAG 1.4.12 text-spacing overrides applied (on a sample), nothing overflows the
screen or is clipped. Pages are found by following links from each role's start pages;
one page per kind (Flask endpoint) per role is enough, since a kind shares its template.

Right to left, in Urdu, with geometry: chart bars grow from the right, the error summary's
form group has its bar on the right, bullets sit next to their text, the header fits.

Screenshots of the key pages at 320 and 1280 px in English and Urdu are saved to
test-artifacts/phone-first/ (the test run prints the folder).

The crawl runs once per CI: on the SQLite pass only. Layout does not depend on the
database, and CI runs the suite twice within a time budget.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import expect
from werkzeug.exceptions import HTTPException

from tests.browser.axe import axe_violations
from tests.browser.conftest import sign_in

# The crawl is marked `once`: CI runs it on the SQLite pass only, since layout does not
# depend on the database and CI runs the suite twice within its time budget.
pytestmark = [pytest.mark.browser, pytest.mark.once]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "phone-first"
WIDTH, HEIGHT = 320, 256  # = 1280 x 1024 at 400 % zoom

ROLES = {
    "anonymous": None,
    "member": "member@feedback-demo.example.org",
    "editor": "editor@riverside.example.org",
    "org admin": "admin@riverside.example.org",
    "partner staff": "staff@apna.example.org",
    "moderator": "moderator@feedback-demo.example.org",
    "platform admin": "admin@feedback-demo.example.org",
}
START = {
    "anonymous": ["/", "/sign-in", "/sign-in/check-your-email", "/subscribe", "/accessibility",
                  "/privacy", "/languages", "/language", "/widget", "/open-data",
                  "/accountability", "/no-such-page"],
    "member": ["/account", "/following", "/account/delete"],
    "editor": ["/account", "/organisations/riverside-hospitals",
               "/organisations/riverside-hospitals/updates"],
    "org admin": ["/account", "/organisations/riverside-hospitals/members",
                  "/organisations/riverside-hospitals/translators",
                  "/priorities/rounds/sickle-cell-research-priorities/manage",
                  "/priorities/rounds/sickle-cell-research-priorities/paper"],
    "partner staff": ["/account"],
    "moderator": ["/moderation", "/admin/"],
    "platform admin": ["/admin/", "/admin/users", "/admin/audit", "/admin/outbox",
                       "/admin/deliveries", "/translation/review", "/priorities/rounds/new"],
}
# Not pages: data, files, feeds, one-use links, the language switch itself.
SKIP_ENDPOINTS = {
    "static", "core.healthz", "updates.feed", "updates.qr_code",
    "accountability.download", "priorities.results_csv", "digests.download",
    "digests.editor_download", "digests.preview_email", "updates.stop_following",
    "accounts.confirm_sign_in", "accounts.accept_invitation", "subscriptions.confirm",
    "subscriptions.manage", "subscriptions.unsubscribe",
}
HREF = re.compile(r'<a\b[^>]*\bhref="([^"]+)"')
KEY_PAGES = ["/", "/updates", "/organisations", "/sign-in", "/priorities"]

# The WCAG 1.4.12 overrides, as the bookmarklets that test it set them.
TEXT_SPACING = ("* { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
                " word-spacing: 0.16em !important; }"
                " p { margin-bottom: 2em !important; }")

STYLE_AT_START = """(() => { const style = document.createElement('style');
  style.textContent = %s; document.documentElement.appendChild(style); })()"""

# Fonts arrive, then the header measures its menu again on the next animation frame.
SETTLE = ("await document.fonts.ready; await new Promise(done => requestAnimationFrame("
          "() => requestAnimationFrame(done)));")

MEASURE = """async () => {
  SETTLE
  const vw = document.documentElement.clientWidth;
  const out = {lang: document.documentElement.lang, width: document.documentElement.scrollWidth,
               vw, wide: [], regions: []};
  if (out.width > vw) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width && (r.right > vw + 1 || r.left < -1) && out.wide.length < 4) {
        const p = el.parentElement.getBoundingClientRect();
        if (p.right <= vw + 1 && p.left >= -1)
          out.wide.push(el.tagName.toLowerCase()
            + (typeof el.className === 'string' && el.className
               ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
            + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
      }
    }
  }
  for (const el of document.querySelectorAll('body *')) {
    const s = getComputedStyle(el);
    if (!['auto', 'scroll'].includes(s.overflowX) || el.matches('textarea, select')) continue;
    if (el.scrollWidth <= el.clientWidth + 1 && !el.classList.contains('app-scroll')) continue;
    const named = el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby');
    if (el.tabIndex !== 0 || !el.getAttribute('role') || !named)
      out.regions.push(el.tagName.toLowerCase() + '.' + String(el.className));
  }
  // A caption is read before its table is scrolled: it must fit inside its region.
  out.cut = [];
  for (const caption of document.querySelectorAll('.app-scroll caption')) {
    const r = caption.getBoundingClientRect();
    const region = caption.closest('.app-scroll').getBoundingClientRect();
    if (r.left < region.left - 1 || r.right > region.right + 1)
      out.cut.push(caption.textContent.trim().slice(0, 40));
  }
  return out;
}""".replace("SETTLE", SETTLE)

CLIPPED = """async () => {
  SETTLE
  const vw = document.documentElement.clientWidth;
  const clipped = [];
  for (const el of document.querySelectorAll('body *')) {
    const s = getComputedStyle(el);
    if (!el.textContent.trim() || el.matches('.nhsuk-u-visually-hidden, .nhsuk-skip-link,'
        + ' textarea, select, input, svg *') || !el.getClientRects().length) continue;
    if (s.clip === 'rect(0px, 0px, 0px, 0px)' || s.clipPath === 'inset(50%)') continue;
    const hidesX = ['hidden', 'clip'].includes(s.overflowX);
    const hidesY = ['hidden', 'clip'].includes(s.overflowY);
    if ((hidesX && el.scrollWidth > el.clientWidth + 1)
        || (hidesY && el.scrollHeight > el.clientHeight + 1))
      clipped.push(el.tagName.toLowerCase() + '.' + String(el.className).slice(0, 60));
  }
  return {width: document.documentElement.scrollWidth, vw, clipped: clipped.slice(0, 4)};
}""".replace("SETTLE", SETTLE)


class Crawl:
    """One browser, one live server, one context per role (switching language in it).

    Links are followed over HTTP with the context's cookies (fast, no rendering); each page
    found is then opened in the browser and measured. axe runs once per page kind and
    language: it is the slow part, and a kind's pages share their template."""

    def __init__(self, browser, server):
        self.browser, self.server = browser, server
        self.adapter = server.app.url_map.bind("127.0.0.1")
        self.failures: list[str] = []
        self.axed: set[tuple[str, str]] = set()
        self.visits = 0
        self.pages: set[tuple[str, str, str]] = set()

    def endpoint(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.netloc != urlsplit(self.server.url).netloc:
            return None
        try:
            endpoint, _args = self.adapter.match(parts.path, method="GET")
        except HTTPException:
            return "404" if parts.path == "/no-such-page" else None
        if endpoint == "core.choose_language" and parts.query:
            return None  # a language link: following it would switch the crawl's language
        return None if endpoint in SKIP_ENDPOINTS or endpoint.startswith("api") else endpoint

    def context(self, role: str, language: str, **options):
        context = self.browser.new_context(locale="en-GB", **options,
                                           viewport={"width": WIDTH, "height": HEIGHT})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        if ROLES[role]:
            sign_in(page, self.server, ROLES[role])
        self.switch(page, language)
        return context, page, errors

    def switch(self, page, language: str) -> None:
        page.goto(self.server(f"/language?code={language}&next=/"))

    def discover(self, context, role: str) -> list[str]:
        """The role's pages, one address per page kind, found by following links."""
        queue = deque(self.server(path) for path in START[role])
        kinds: set[str] = set()
        found: list[str] = []
        while queue:
            url = queue.popleft()
            endpoint = self.endpoint(url)
            if endpoint is None or endpoint in kinds:
                continue
            response = context.request.get(url, max_redirects=0)
            if not response.headers.get("content-type", "").startswith("text/html") or (
                    not response.ok and endpoint != "404"):
                continue  # a file, a redirect or a refusal: not a page this role reaches
            kinds.add(endpoint)
            found.append(url)
            for href in HREF.findall(response.text()):
                href = urljoin(url, html.unescape(href)).split("#")[0]
                if self.endpoint(href) not in kinds:
                    queue.append(href)
        return found

    def check(self, page, url: str, role: str, language: str) -> None:
        page.goto(url)
        self.visits += 1
        endpoint = self.endpoint(url)
        where = f"{role}/{language} {urlsplit(page.url).path}"
        self.pages.add((role, language, endpoint))
        found = page.evaluate(MEASURE)
        if found["lang"] != language:
            self.failures.append(f"{where}: page is in {found['lang']!r}")
        if found["width"] > found["vw"]:
            self.failures.append(f"{where}: {found['width']} px wide at {found['vw']} px "
                                 f"(widest: {found['wide']})")
        if found["regions"]:
            self.failures.append(f"{where}: scrollable regions not focusable, named and with "
                                 f"a role: {found['regions']}")
        if found["cut"]:
            self.failures.append(f"{where}: table captions cut by their scroll region: "
                                 f"{found['cut']}")
        if (endpoint, language) not in self.axed:
            self.axed.add((endpoint, language))
            for violation in axe_violations(page):
                self.failures.append(f"{where}: axe {violation}")


def test_every_page_reflows_for_every_role_in_english_and_urdu(browser, demo):
    """0 pages wider than 320 px, every scroll region focusable and named, no table
    caption cut by its region, axe clean."""
    started = time.monotonic()
    crawl = Crawl(browser, demo)
    sample: list[str] = []
    for role in ROLES:
        context, page, errors = crawl.context(role, "en")
        urls = crawl.discover(context, role)
        for language in ("en", "ur"):
            crawl.switch(page, language)
            for url in urls:
                crawl.check(page, url, role, language)
        if role == "anonymous":
            sample = urls[:8]
        if role == "platform admin":
            sample += [url for url in urls if "/admin" in url][:4]
            for language in ("ar", "bn"):
                crawl.switch(page, language)
                for url in sample:
                    crawl.check(page, url, role, language)
        crawl.failures += [f"{role}: script error {error}" for error in errors]
        context.close()
    overflow = sum(" px wide at " in failure for failure in crawl.failures)
    axe = sum(": axe " in failure for failure in crawl.failures)
    kinds = {endpoint for _role, _language, endpoint in crawl.pages}
    summary = (f"phone-first crawl: {len(crawl.pages)} pages checked = role x language x "
               f"page kind ({len(kinds)} page kinds, {len(ROLES)} roles, en and ur for "
               f"all, ar and bn on a sample of {len(sample)}), {crawl.visits} page loads, "
               f"{overflow} overflowing at 320 px, {axe} axe violations "
               f"({len(crawl.axed)} axe runs), {time.monotonic() - started:.0f} s")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "crawl.txt").write_text(
        summary + "\npage kinds: " + ", ".join(sorted(kinds)) + "\n"
        + "\n".join(crawl.failures) + "\n", encoding="utf-8")
    assert len(kinds) > 40, summary  # the crawl really found the site
    assert crawl.failures == [], summary + "\n" + "\n".join(crawl.failures)


def test_text_spacing_clips_nothing(browser, demo):
    """WCAG 1.4.12: with the text-spacing overrides, nothing is cut off or overflows, on
    the public pages and the forms a member fills in, in English and Urdu."""
    crawl = Crawl(browser, demo)
    failures = []
    for language in ("en", "ur"):
        # The overrides are a <style> added before the page's own scripts run, as a user
        # style sheet would be: bypass the CSP for this context only.
        context, page, _errors = crawl.context("member", language, bypass_csp=True)
        context.add_init_script(STYLE_AT_START % json.dumps(TEXT_SPACING))
        for path in [*KEY_PAGES, "/account", "/subscribe", "/accessibility", "/updates",
                     "/priorities/rounds/sickle-cell-research-priorities",
                     RESULTS]:
            page.goto(demo(path))
            found = page.evaluate(CLIPPED)
            if found["width"] > found["vw"] or found["clipped"]:
                failures.append(f"{language} {path}: {found}")
        context.close()
    assert failures == []


RESULTS = "/priorities/rounds/maternity-research-priorities/results"  # the demo's voted round


def test_right_to_left_geometry_in_urdu(browser, demo):
    crawl = Crawl(browser, demo)
    context, page, errors = crawl.context("anonymous", "ur")

    # The header fits the screen, every link in it too.
    page.goto(demo("/"))
    header = page.evaluate("""() => { const h = document.querySelector('.nhsuk-header');
        const vw = document.documentElement.clientWidth;
        return {width: h.scrollWidth, vw, outside: [...h.querySelectorAll('a, button')]
          .filter(e => e.getClientRects().length)
          .map(e => e.getBoundingClientRect())
          .filter(r => r.left < 0 || r.right > vw).length}; }""")
    assert header["width"] <= header["vw"] and header["outside"] == 0, header

    # Bullets sit next to their text, on the right: no more than 40 px from it.
    page.goto(demo("/"))
    gaps = page.evaluate("""() => [...document.querySelectorAll('main .nhsuk-list--bullet > li')]
        .map(li => { const range = document.createRange(); range.selectNodeContents(li);
          const text = range.getClientRects()[0];
          return li.parentElement.getBoundingClientRect().right - text.right; })""")
    assert gaps and max(gaps) <= 40 and min(gaps) > 0, gaps

    # Chart bars grow from the right: their right edges line up, near the chart's right,
    # and each bar's name starts on the right, above it.
    page.goto(demo(RESULTS))
    bars = page.evaluate("""() => { const chart = document.querySelector('.app-chart');
        const box = chart.getBoundingClientRect();
        return {right: box.right, left: box.left,
                bars: [...chart.querySelectorAll('.app-chart__bar')].filter(b => b.getBBox().width)
                  .map(b => { const r = b.getBoundingClientRect(); return [r.left, r.right]; }),
                labels: [...chart.querySelectorAll('.app-chart__label')].map(t => {
                  const r = document.createRange(); r.selectNodeContents(t);
                  return r.getBoundingClientRect().right; })}; }""")
    assert bars["bars"], "no bars drawn"
    rights = [right for _left, right in bars["bars"]]
    assert max(rights) - min(rights) < 1, f"bars do not share their right edge: {rights}"
    assert bars["right"] - max(rights) < 0.25 * (bars["right"] - bars["left"]), bars
    assert bars["labels"] and min(bars["labels"]) >= bars["right"] - 0.2 * (
        bars["right"] - bars["left"]), f"names do not start on the right: {bars}"

    # The error summary and the field in error: their red bar is on the right.
    page.goto(demo("/sign-in"))
    page.locator("form button[type=submit], form .nhsuk-button").last.click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    group = page.locator(".nhsuk-form-group--error").first.evaluate(
        "el => { const s = getComputedStyle(el); return [s.borderRightWidth, s.borderLeftWidth]; }")
    assert group == ["4px", "0px"], f"error bar (right, left): {group}"
    title = page.locator(".nhsuk-error-summary h2").evaluate(
        """el => { const r = document.createRange(); r.selectNodeContents(el);
             return el.getBoundingClientRect().right - r.getBoundingClientRect().right; }""")
    assert title < 2, "the error summary's title does not start on the right"
    context.close()
    assert errors == []


def test_screenshots_of_key_pages(browser, demo):
    """Key pages at 320 and 1280 px, in English and Urdu, for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    paths = [*KEY_PAGES, RESULTS, "/accountability"]
    for width in (320, 1280):
        for language in ("en", "ur"):
            context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 800})
            page = context.new_page()
            page.goto(demo(f"/language?code={language}&next=/"))
            for path in paths:
                page.goto(demo(path))
                page.evaluate("document.fonts.ready.then(() => true)")
                name = (path.strip("/").split("/")[-1] or "home")
                page.screenshot(path=str(ARTIFACTS / f"{name}-{language}-{width}.png"),
                                full_page=True)
            context.close()
    assert len(list(ARTIFACTS.glob("*.png"))) >= 4 * len(paths)
