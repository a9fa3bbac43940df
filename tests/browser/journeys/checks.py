"""Checks every journey runs on each page it meets: axe in English and Urdu, keyboard-only
use of forms with visible focus, and the accessibility of emails."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import quote, urlsplit

from bs4 import BeautifulSoup
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible

# What the browser can reach with Tab inside a form.
FOCUSABLE = ("a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), "
             "select:not([disabled]), textarea:not([disabled]), summary, [tabindex='0']")


# Web fonts arrive, then NHS.UK's header measures its menu again on the next animation
# frame and may move its last links under "More".
SETTLED = ("document.fonts.ready.then(() => new Promise(done => "
           "requestAnimationFrame(() => requestAnimationFrame(done))))")


def settle(page) -> None:
    """Wait until the page has loaded and its header has laid itself out again (after
    the fonts arrive or the window is resized), before measuring or clicking."""
    page.wait_for_load_state("load")
    page.evaluate(SETTLED)


def follow(page, link) -> None:
    """Click ``link`` (a locator) once the page has settled, and wait until the page it
    leads to has loaded.

    Playwright's click no longer waits for the navigation it starts, so a check made
    straight after it can read the old page (its URL, then its forms). And a header link
    clicked before the fonts arrive can move under "More" as it is clicked."""
    settle(page)
    with page.expect_navigation():
        link.click()


def check_page(page, languages: tuple[str, ...] = ("en", "ur")) -> None:
    """Run axe on the current page in each language (switching through the language
    picker, as a reader would), then return to the first language. Call it after a
    navigation and before filling in a form, since switching language reloads the page.

    A page already in the first language is checked as it is, without reloading it.
    Each switch must land on the same page again: a page that cannot be fetched again
    (an error answer) fails the check rather than letting axe look at the error page."""
    path = urlsplit(page.url)
    here = path.path + (f"?{path.query}" if path.query else "")
    origin = f"{path.scheme}://{path.netloc}"
    shown = page.locator("html").get_attribute("lang")
    for index, code in enumerate(languages):
        if not (index == 0 and shown == code):
            _switch_language(page, origin, here, code)
        expect(page.locator("html")).to_have_attribute("lang", code)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if code == "ur" else "ltr")
        assert_accessible(page)
    if languages[-1] != languages[0]:
        _switch_language(page, origin, here, languages[0])


def _switch_language(page, origin: str, here: str, code: str) -> None:
    response = page.goto(f"{origin}/language?code={code}&next={quote(here, safe='')}")
    assert response is not None and response.ok, (
        f"{here} answered {response.status if response else 'nothing'} when fetched again "
        f"in {code}, so its own page cannot be checked in that language")
    assert urlsplit(page.url).path == urlsplit(here).path, f"{here} moved to {page.url}"


def check_keyboard(page, form) -> None:
    """Every control of ``form`` (a locator) is reached with Tab alone, in order, and
    shows a visible focus indicator when it has focus. A radio group is one Tab stop. A
    control that takes several presses of Tab (a date input's day, month, year and
    calendar button) counts once."""
    count = form.evaluate(
        """(form, selector) => {
             const groups = new Map();
             let index = 0;
             for (const el of form.querySelectorAll(selector)) {
               if (!el.getClientRects().length || el.tabIndex < 0) continue;
               if (el.type === 'radio') {
                 if (!groups.has(el.name)) groups.set(el.name, index++);
                 el.dataset.keyboardStop = groups.get(el.name);
                 form.querySelectorAll(`input[type=radio]`).forEach(r => {
                   if (r.name === el.name) r.dataset.keyboardStop = groups.get(el.name); });
               } else {
                 el.dataset.keyboardStop = index++;
               }
             }
             return index; }""", FOCUSABLE)
    assert count, "the form has nothing to focus"
    names = form.evaluate(
        """form => { const names = [];
             form.querySelectorAll('[data-keyboard-stop]').forEach(el => {
               names[+el.dataset.keyboardStop] ??= el.id || el.name || el.textContent.trim(); });
             return names; }""")
    form.locator("[data-keyboard-stop='0']").first.focus()
    reached: list[int] = []
    for _press in range(4 * count + 10):
        state = page.evaluate(
            """form => { const el = document.activeElement;
                 if (!el || !form.contains(el)) return {inside: false};
                 const s = getComputedStyle(el);
                 const own = (s.outlineStyle !== 'none' && s.outlineWidth !== '0px')
                             || s.boxShadow !== 'none';
                 // NHS.UK radios and checkboxes draw focus on their label's ::before.
                 const label = el.labels && el.labels[0];
                 const ring = label && getComputedStyle(label, '::before').boxShadow;
                 return {inside: true, focused: el.matches(':focus'),
                         stop: el.dataset.keyboardStop === undefined ? null
                               : +el.dataset.keyboardStop,
                         visible: own || (!!ring && ring !== 'none'),
                         name: el.id || el.name || el.textContent.trim()}; }""",
            form.element_handle())
        if not state["inside"]:
            break
        stop = state["stop"]
        if stop is not None and (not reached or reached[-1] != stop):
            assert stop not in reached, f"Tab came back to {state['name']!r}"
            assert state["focused"] and state["visible"], \
                f"no visible focus on {state['name']!r}"
            reached.append(stop)
        if reached and reached[-1] == count - 1 and stop == count - 1 and \
                state["focused"]:
            break
        page.keyboard.press("Tab")
    missed = [names[i] for i in range(count) if i not in reached]
    assert not missed, f"Tab never reached {missed} (reached {[names[i] for i in reached]})"
    assert reached == sorted(reached), f"Tab order differs from the page order: {reached}"
    form.evaluate("form => form.querySelectorAll('[data-keyboard-stop]').forEach("
                  "el => delete el.dataset.keyboardStop)")


def check_email(message: EmailMessage, language: str = "en") -> None:
    """An email has a plain-text part, and its HTML part (if any) declares the language
    and direction and gives every image alt text."""
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None and plain.get_content().strip(), "no plain-text part"
    html_part = message.get_body(preferencelist=("html",))
    if html_part is None:
        return
    soup = BeautifulSoup(html_part.get_content(), "html.parser")
    root = soup.find("html")
    assert root is not None and root.get("lang") == language, "html lang is missing or wrong"
    direction = "rtl" if language in ("ur", "ar", "pa-Arab") else "ltr"
    assert root.get("dir") == direction, "html dir is missing or wrong"
    for image in soup.find_all("img"):
        assert image.get("alt") is not None, f"image without alt: {image}"
    assert "\r" not in str(message["Subject"]) and "\n" not in str(message["Subject"])
    assert re.fullmatch(r"[^\r\n]+", str(message["To"]))
