"""Cutting text into segments that are safe to translate, and putting it back together.

Plain fields (titles, summaries) are one ``text`` segment each. Markdown is rendered and
sanitised first; each block of the HTML (paragraph, list item, heading, table cell) is
one ``html`` segment, sent in the provider's HTML mode. So link addresses stay in
attributes no provider touches, emphasis stays as tags, and the page structure is never
sent at all. ``check_translation`` refuses a translation that lost a link or changed a
number.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import lxml.html
import nh3
from lxml.etree import ParserError
from markupsafe import Markup

from feedback.core.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    render_markdown,
)

TEXT = "text"
HTML = "html"
KINDS = ("text", "markdown")

SEGMENT_TAGS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dt", "dd"}
BLOCK_TAGS = SEGMENT_TAGS | {"ul", "ol", "table", "thead", "tbody", "tr", "blockquote",
                             "pre", "hr", "div", "dl"}
UNTRANSLATED_TAGS = {"pre", "code"}
INLINE_TAGS = ALLOWED_TAGS - BLOCK_TAGS
TRANSLATED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    **{tag: {"lang", "dir"} | set(ALLOWED_ATTRIBUTES.get(tag, ())) for tag in SEGMENT_TAGS},
}


@dataclass(frozen=True)
class Segment:
    text: str
    format: str  # "text" or "html"

    @property
    def hash(self) -> str:
        return hash_segment(self.text)


def hash_segment(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _inner_html(element) -> str:
    parts = [html.escape(element.text, quote=False)] if element.text else []
    parts += [lxml.html.tostring(child, encoding="unicode") for child in element]
    return "".join(parts).strip()


def _parse(html_text: str) -> list:
    if not html_text.strip():
        return []
    try:
        return lxml.html.fragments_fromstring(html_text)
    except ParserError:
        return []


def _segment_elements(elements) -> list:
    """The leaf blocks to translate, in document order."""
    found = []
    for element in elements:
        if not isinstance(element.tag, str) or element.tag in UNTRANSLATED_TAGS:
            continue
        has_blocks = any(isinstance(child.tag, str) and child.tag in BLOCK_TAGS
                         for child in element.iterdescendants())
        if element.tag in SEGMENT_TAGS and not has_blocks:
            for link in element.iter("a"):
                link.attrib.pop("rel", None)  # added back when shown; no need to send it
            if _inner_html(element):
                found.append(element)
        else:
            found.extend(_segment_elements(list(element)))
    return found


def markdown_blocks(source: str) -> tuple[list, list]:
    """The rendered, sanitised fragments of ``source`` and the leaf blocks among them."""
    fragments = [f for f in _parse(str(render_markdown(source))) if not isinstance(f, str)]
    return fragments, _segment_elements(fragments)


def split(value: str | None, kind: str) -> list[Segment]:
    """The segments of a field's value. ``kind`` is ``text`` or ``markdown``."""
    if not value or not value.strip():
        return []
    if kind == "text":
        return [Segment(value.strip(), TEXT)]
    _, blocks = markdown_blocks(value)
    return [Segment(_inner_html(block), HTML) for block in blocks]


@dataclass(frozen=True)
class Choice:
    """What to show for one segment: a translation (with its language) or the source."""

    text: str
    lang: str
    dir: str
    machine: bool = False
    translated: bool = True


def clean_inline_html(text: str) -> str:
    """Sanitise a translated (or edited) HTML segment: inline tags only."""
    return nh3.clean(text, tags=INLINE_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=ALLOWED_URL_SCHEMES, link_rel=None).strip()


def assemble_markdown(source: str, choose: Callable[[Segment], Choice | None]) -> Markup:
    """The rendered ``source`` with each block replaced by ``choose``'s text, marked with
    that text's ``lang`` and ``dir``. Blocks with no choice keep the source."""
    fragments, blocks = markdown_blocks(source)
    for block in blocks:
        choice = choose(Segment(_inner_html(block), HTML))
        if choice is None:
            continue
        if choice.translated:
            for child in list(block):
                block.remove(child)
            holder = lxml.html.fragment_fromstring(clean_inline_html(choice.text) or " ",
                                                   create_parent="div")
            block.text = holder.text
            for child in list(holder):
                block.append(child)
        block.set("lang", choice.lang)
        block.set("dir", choice.dir)
    rendered = "".join(lxml.html.tostring(f, encoding="unicode") for f in fragments)
    cleaned = nh3.clean(rendered, tags=ALLOWED_TAGS, attributes=TRANSLATED_ATTRIBUTES,
                        url_schemes=ALLOWED_URL_SCHEMES,
                        link_rel="noopener noreferrer nofollow")
    return Markup(cleaned)  # noqa: S704 - nh3 has sanitised it


_DIGITS = re.compile(r"\d+")


def _numbers(text: str) -> Counter:
    plain = nh3.clean(text, tags=set())
    # Arabic-script translations may use Eastern Arabic digits; compare their values.
    normalised = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in plain)
    return Counter(_DIGITS.findall(normalised))


def _markup(text: str) -> tuple[Counter, Counter]:
    fragments = _parse(f"<div>{text}</div>")
    if not fragments or isinstance(fragments[0], str):
        return Counter(), Counter()
    root = fragments[0]
    hrefs = Counter(link.get("href", "") for link in root.iter("a"))
    tags = Counter(el.tag for el in root.iterdescendants() if isinstance(el.tag, str))
    return hrefs, tags


@dataclass(frozen=True)
class Difference:
    """One way a translation departs from its source: ``kind`` is ``numbers``, ``links``
    or ``formatting``; ``missing`` is in the source only, ``added`` in the translation
    only (numbers and link addresses; tag names for formatting)."""

    kind: str
    missing: tuple[str, ...]
    added: tuple[str, ...]


def _difference(kind: str, source: Counter, translated: Counter) -> Difference | None:
    if source == translated:
        return None
    return Difference(kind, tuple(sorted((source - translated).elements())),
                      tuple(sorted((translated - source).elements())))


def differences(source: Segment, translated: str) -> list[Difference]:
    """How ``translated`` differs from ``source`` in numbers, links and Markdown
    structure (emphasis, code, line breaks): the same checks for machine and people."""
    found = [_difference("numbers", _numbers(source.text), _numbers(translated)),
             _difference("links", _links(source), _links(Segment(translated,
                                                                 source.format)))]
    if source.format == HTML:
        found.append(_difference("formatting", _markup(source.text)[1],
                                 _markup(translated)[1]))
    return [difference for difference in found if difference is not None]


_URLS = re.compile(r"https?://[^\s<>\"']+|www\.[^\s<>\"']+", re.IGNORECASE)


def _links(segment: Segment) -> Counter:
    """Link addresses (``href``) and web addresses written out in the text."""
    if segment.format == HTML:
        hrefs, _tags = _markup(segment.text)
        return hrefs + Counter(_URLS.findall(nh3.clean(segment.text, tags=set())))
    return Counter(_URLS.findall(segment.text))


PROBLEMS = {
    "numbers": "The numbers differ from the original.",
    "links": "The links differ from the original.",
    "formatting": "The emphasis or formatting differs from the original.",
}


def check_translation(source: Segment, translated: str) -> list[str]:
    """Problems that make a translation unsafe to show: lost or changed links, emphasis
    or numbers. An empty list means it kept them all."""
    if not translated.strip():
        return ["The translation is empty."]
    return [PROBLEMS[difference.kind] for difference in differences(source, translated)]
