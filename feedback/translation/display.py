"""The best available text for a reader's language, labelled honestly.

Per segment: an approved translation; else a machine draft, if machine text is allowed
here (it is labelled "Machine translated"); else the English original. Digests call
``localised_text`` with the audience's choice, which adds, when any segment fell back,
a sentence in the reader's language saying a checked translation is coming.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import g, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from feedback.core.i18n import current_language
from feedback.core.languages import Language, get_language, source_language
from feedback.core.markdown import render_markdown
from feedback.extensions import db
from feedback.translation.models import SegmentStatus, TranslationSegment
from feedback.translation.registry import field_kind, translatable_fields
from feedback.translation.segments import Choice, Segment, assemble_markdown, split

SHOWN_STATUSES = (SegmentStatus.APPROVED, SegmentStatus.MACHINE_DRAFT)


@dataclass(frozen=True)
class Localised:
    """A field's text for one reader. ``html`` is safe to show as is."""

    html: Markup
    text: str
    lang: str
    dir: str
    original_html: Markup
    machine: bool  # some of it is unreviewed machine text (show the label)
    fallback: bool  # some of it is still the original (a checked translation is coming)
    translated: bool  # some of it is in the reader's language
    note: str = ""  # for digests: "a checked translation is coming", in that language

    @property
    def is_original(self) -> bool:
        return not self.translated

    def __html__(self) -> Markup:
        """Shown as is in a template (``{{ t }}``): its safe HTML, without its lang; wrap
        it in an element that carries ``t.lang`` and ``t.dir``."""
        return self.html

    def __str__(self) -> str:
        return self.text


def _cache(language: Language) -> dict[str, TranslationSegment | None] | None:
    """Lookups already made in this request, by source hash (None: nothing to show)."""
    if not has_request_context():
        return None
    caches = g.setdefault("translation_cache", {})
    return caches.setdefault(language.code, {})


def lookup(segments: Iterable[Segment], language: Language
           ) -> dict[str, TranslationSegment]:
    """Shown translations (approved or machine) of these segments, by source hash."""
    cache = _cache(language)
    hashes = list({segment.hash for segment in segments})
    wanted = [digest for digest in hashes if cache is None or digest not in cache]
    found: dict[str, TranslationSegment] = {}
    for start in range(0, len(wanted), 500):
        rows = db.session.scalars(select(TranslationSegment).where(
            TranslationSegment.source_hash.in_(wanted[start:start + 500]),
            TranslationSegment.source_language == source_language().code,
            TranslationSegment.target_language == language.code,
            TranslationSegment.status.in_(SHOWN_STATUSES)))
        found.update({row.source_hash: row for row in rows})
    if cache is None:
        return found
    cache.update({digest: found.get(digest) for digest in wanted})
    return {digest: cache[digest] for digest in hashes if cache[digest] is not None}


def prefetch_translations(objects: Iterable[Any], language: Language | None = None,
                          texts: Iterable[str | None] = ()) -> str:
    """Look up every registered field of ``objects`` (and copies of registered plain
    text: ``texts``) in one query, so a list of cards costs one query however long it is.
    Returns "" (call it from a template)."""
    language = language or current_language()
    if language.code == source_language().code:
        return ""
    segments = [segment for text in texts for segment in split(text, "text")]
    for obj in objects:
        for name, kind in translatable_fields(obj).items():
            segments.extend(split(getattr(obj, name, None), kind))
    lookup(segments, language)
    return ""


def prefetch_texts(sources: Iterable[str | None], kind: str = "text",
                   language: Language | None = None) -> str:
    """Like ``prefetch_translations``, for copies of registered text (a shortlist's
    titles in a results table, a digest's items). Returns ""."""
    language = language or current_language()
    if language.code != source_language().code:
        lookup([segment for source in sources for segment in split(source, kind)], language)
    return ""


def _as_written(source: str, kind: str, lang: str, direction: str) -> Localised:
    """``source`` shown as written, in the source language (``lang``, ``direction``)."""
    if kind != "markdown":
        return _text_as_written(source, lang, direction)
    html = render_markdown(source)
    return Localised(html, source.strip(), lang, direction, html, False, False, False)


@lru_cache(maxsize=4096)
def _text_as_written(source: str, lang: str, direction: str) -> Localised:
    """A short text as written, remembered per worker (it depends on nothing else, and
    a Localised cannot change): a list shows the same names and topics on every card."""
    html = escape(source.strip())
    return Localised(html, source.strip(), lang, direction, html, False, False, False)


def localise(source: str | None, kind: str, language: Language | None = None,
             allow_machine: bool = True) -> Localised:
    """``source`` (a ``text`` or ``markdown`` field) in ``language`` (default: the
    reader's), segment by segment."""
    language = language or current_language()
    original = source_language()
    source = source or ""
    if language.code == original.code or not source.strip():
        return _as_written(source, kind, original.code, original.direction)
    original_html = _as_written(source, kind, original.code, original.direction).html
    segments = split(source, kind)
    found = lookup(segments, language)
    used = {"machine": False, "fallback": False, "translated": False}

    def choose(segment: Segment) -> Choice:
        row = found.get(segment.hash)
        if row is not None and row.text and (row.status == SegmentStatus.APPROVED
                                             or allow_machine):
            machine = row.status == SegmentStatus.MACHINE_DRAFT
            used["machine"] |= machine
            used["translated"] = True
            return Choice(row.text, language.code, language.direction, machine=machine)
        used["fallback"] = True
        return Choice(segment.text, original.code, original.direction, translated=False)

    if kind == "markdown":
        html = assemble_markdown(source, choose)
        text = " ".join(choose(segment).text for segment in segments)
    else:
        choice = choose(segments[0])
        html = escape(choice.text)
        text = choice.text
    lang, direction = ((language.code, language.direction) if used["translated"]
                       else (original.code, original.direction))
    return Localised(html, text, lang, direction, original_html, used["machine"],
                     used["fallback"], used["translated"])


def localised_text(source: str | None, lang: str | Language, allow_machine: bool = False,
                   kind: str = "markdown") -> Localised:
    """For digests: per segment, approved translation, then a labelled machine draft (only
    if ``allow_machine``), then the English original with a sentence in the reader's
    language saying a checked translation is coming."""
    language = lang if isinstance(lang, Language) else (get_language(lang)
                                                        or source_language())
    result = localise(source, kind, language, allow_machine)
    if not result.fallback:
        return result
    with force_locale(language.babel_locale):
        note = _("A checked translation of this text is coming. Until then, here it is "
                 "in English.")
    return Localised(result.html, result.text, result.lang, result.dir,
                     result.original_html, result.machine, True, result.translated, note)


def translated_field(obj: Any, name: str, allow_machine: bool = True,
                     language: Language | None = None) -> Localised:
    """A registered field of ``obj`` in ``language`` (default: the reader's; a caller
    showing many fields may pass it, worked out once). A template global."""
    kind = field_kind(obj, name)
    return localise(getattr(obj, name, None), kind, language, allow_machine=allow_machine)


def translated_text(source: str | None, kind: str = "text",
                    allow_machine: bool = True) -> Localised:
    """A copy of registered text (same words, same translation) in the reader's language
    (a template global)."""
    return localise(source, kind, allow_machine=allow_machine)


def inline_html(result: Localised) -> Markup:
    """A plain-text field as a ``span`` marked with the language it is in (for form
    labels and other places a template macro cannot reach)."""
    return Markup('<span lang="{}" dir="{}">{}</span>').format(result.lang, result.dir,
                                                                result.html)


def content_options(items: Iterable[Any], value_key: str, label_key: str,
                    selected: Any = None) -> Markup:
    """The ``<option>`` elements of a select whose labels are people's content (a filter
    menu's organisations, topics, areas), each label in the reader's language and
    marked with the language it is in: ``items`` are mappings, ``value_key`` and
    ``label_key`` their keys, ``selected`` the chosen value. One loop here rather than
    a template loop: a menu has dozens of options and a page several menus."""
    language = current_language()
    original = source_language()
    # In the source language every label is shown as written: no lookup, one lang/dir.
    as_written = f'lang="{escape(original.code)}" dir="{escape(original.direction)}"'
    parts = []
    for item in items:
        value = item[value_key]
        if language.code == original.code:
            text, marks = (item[label_key] or "").strip(), as_written
        else:
            shown = localise(item[label_key], "text", language)
            text, marks = shown.text, f'lang="{escape(shown.lang)}" dir="{escape(shown.dir)}"'
        parts.append(f'<option value="{escape(value)}" {marks} '
                     f'{"selected" if selected == value else ""}>{escape(text)}</option>')
    return Markup("".join(parts))  # noqa: S704 - every value escaped


def content_choices(pairs: Iterable[tuple[str, str]], kind: str = "text") -> list:
    """Choices (for a select or checkboxes) whose labels are people's content: topics,
    areas, organisation names. Each label is in the reader's language where a translation
    exists, and carries the language it is in (``lang``/``dir`` in ``render_kw``: on the
    ``<option>``; ``checkboxes_field`` wraps the label in them). One query for all."""
    from wtforms.fields.choices import SelectChoice

    pairs = list(pairs)
    prefetch_texts((label for _value, label in pairs), kind)
    choices = []
    for value, label in pairs:
        result = localise(label, kind)
        choices.append(SelectChoice(value, result.text,
                                    render_kw={"lang": result.lang, "dir": result.dir}))
    return choices


def field_status(result: Localised) -> str:
    """For the API: ``original`` (the reader asked for the source language, or nothing to
    translate), ``approved``, ``machine`` (some unreviewed machine text), ``partial``
    (some still in the original) or ``untranslated``."""
    if not result.translated:
        return "untranslated" if result.fallback else "original"
    if result.machine:
        return "machine"
    return "partial" if result.fallback else "approved"
