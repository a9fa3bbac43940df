"""Finding English that never went through a catalog, in pages and emails rendered in the
pseudo-locale (``en-XA``, see ``feedback/core/pseudo.py``).

Text a reader can see or hear (text nodes, the page title, and the ``title``, ``alt``,
``aria-label`` and ``placeholder`` attributes and input buttons' values) must be inside
``⟦…⟧``, or belong to an element whose ``lang`` differs from the page's (user content
marked as being in its own language), or be one of the few ALLOWED exceptions.

The page's ``<title>`` is the one place that holds both interface and people's content
and cannot hold an element: there the content is set off with Unicode isolates (U+2068 …
U+2069, ``isolate_text``), which is all the marking a title can carry, so a run inside
them counts as marked content. Anywhere markup can go, isolates are not enough: content
needs an element with its ``lang``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction

OPEN, CLOSE = "⟦", "⟧"
PAGE_LANG = "en-XA"

# The short list of words that are not translated, each with its reason.
ALLOWED = {
    "Feedback Loop": "the service name (FEEDBACK_SERVICE_NAME), a proper name",
    "NHS": "the NHS brand is not translated",
}
# Patterns of text that is not language at all.
NOT_LANGUAGE = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # email addresses
    re.compile(r"https?://\S+"),  # web addresses, shown so they can be copied
]
ATTRIBUTES = ("title", "alt", "aria-label", "placeholder")
SKIPPED_ELEMENTS = {"script", "style", "template"}
ISOLATED_RUN = re.compile("\u2068[^\u2068\u2069]*\u2069")
BLOCKS = ["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt"]


@dataclass(frozen=True)
class Leak:
    where: str  # the page, or email and part
    text: str  # the words outside the markers
    context: str  # the whole text or attribute they were found in
    raw: str = ""  # the text outside the markers, before allowed words were taken out

    def __str__(self) -> str:
        return f"{self.where}: {self.text!r} in {self.context[:120]!r}"


def outside_markers(text: str) -> str:
    """The characters of ``text`` not inside ``⟦…⟧`` (markers nest: a translated
    message can hold another)."""
    depth, kept = 0, []
    for char in text:
        if char == OPEN:
            depth += 1
            kept.append(" ")
        elif char == CLOSE:
            depth = max(0, depth - 1)
            kept.append(" ")
        elif depth == 0:
            kept.append(char)
    return "".join(kept)


def untranslated(text: str) -> str:
    """The words of ``text`` that are outside the markers and not allowed: "" when the
    text is fine."""
    rest = outside_markers(text)
    for pattern in NOT_LANGUAGE:
        rest = pattern.sub(" ", rest)
    for allowed in ALLOWED:
        rest = rest.replace(allowed, " ")
    if not any(unicodedata.category(char).startswith("L") for char in rest):
        return ""
    return " ".join(rest.split())


def _lang_differs(element, page_lang: str) -> bool:
    """Some element from here up carries a ``lang`` other than the page's: user content
    in its own language."""
    while element is not None and getattr(element, "name", None):
        lang = element.attrs.get("lang") if hasattr(element, "attrs") else None
        if lang is not None:
            return lang.lower() != page_lang.lower()
        element = element.parent
    return False


def html_leaks(html: str, where: str) -> list[Leak]:
    """Leaks in an HTML page or email part."""
    return soup_leaks(BeautifulSoup(html, "lxml"), where)


def soup_leaks(soup: BeautifulSoup, where: str) -> list[Leak]:
    """Leaks in a parsed page."""
    root = soup.find("html")
    page_lang = (root.get("lang") if root is not None else None) or PAGE_LANG
    leaks: list[Leak] = []
    for node in soup.find_all(string=True):
        if isinstance(node, (Comment, Doctype, ProcessingInstruction)) or not isinstance(
                node, NavigableString):
            continue
        parent = node.parent
        if parent is None or parent.name in SKIPPED_ELEMENTS:
            continue
        if _lang_differs(parent, page_lang):
            continue
        text = str(node)
        if parent.name == "title":  # see the module's docstring
            text = ISOLATED_RUN.sub(" ", text)
        words = untranslated(text)
        if words:
            leaks.append(Leak(where, words, _context(parent), _raw(text)))
    for element in soup.find_all(True):
        if element.name in SKIPPED_ELEMENTS:
            continue
        values = [(name, element.get(name)) for name in ATTRIBUTES]
        if element.name == "input" and (element.get("type") or "") in (
                "submit", "button", "reset"):  # a button's value is not shown
            values.append(("value", element.get("value")))
        for name, value in values:
            if not value or _lang_differs(element, page_lang):
                continue
            words = untranslated(value)
            if words:
                leaks.append(Leak(where, words, f"{element.name}[{name}]={value}",
                                  _raw(value)))
    return leaks


def foreign_texts(html: str) -> list[str]:
    """The text of every element marked with a language other than the page's: the user
    content a plain-text alternative also carries, where it cannot be marked."""
    soup = BeautifulSoup(html, "lxml")
    root = soup.find("html")
    page_lang = (root.get("lang") if root is not None else None) or PAGE_LANG
    found = []
    for element in soup.find_all(attrs={"lang": True}):
        if element.name == "html" or element["lang"].lower() == page_lang.lower():
            continue
        for part in [element, *element.find_all(BLOCKS)]:
            found.append(" ".join(part.get_text("").split()))
    return found


def text_leaks(text: str, where: str, content: tuple[str, ...] | list[str] = ()
               ) -> list[Leak]:
    """Leaks in plain text (an email subject or text part), line by line. ``content``:
    user content known to be in its own language (plain text cannot say so)."""
    leaks = []
    for line in text.splitlines():
        rest = " ".join(line.split())
        for pattern in NOT_LANGUAGE:  # before content is taken out of them
            rest = pattern.sub(" ", rest)
        for known in sorted((" ".join(c.split()) for c in content if c.strip()), key=len,
                            reverse=True):
            rest = rest.replace(known, " ")
        words = untranslated(rest)
        if words:
            leaks.append(Leak(where, words, line, _raw(rest)))
    return leaks


def _raw(text: str) -> str:
    return " ".join(outside_markers(text).split())


def _context(element) -> str:
    return " ".join(element.get_text(" ").split())
