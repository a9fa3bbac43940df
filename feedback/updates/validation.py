"""Cleaning what people write in an update: text, terms, catalogue links, dates and
evidence links, checked the same way for the web, the API and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from feedback.audit import services as audit
from feedback.core.validation import ValidationError, clean_text, clean_url, slugify
from feedback.extensions import db
from feedback.organisations.models import Dataset, Service
from feedback.updates import topics
from feedback.updates.models import (
    BODY_MAX,
    LEGAL_BASIS_MAX,
    LINK_TITLE_MAX,
    LONG_TEXT_MAX,
    MAX_EVIDENCE_LINKS,
    MAX_ID,
    MAX_TERMS,
    SUMMARY_MAX,
    TERM_MAX,
    TITLE_MAX,
    OptOutApplied,
    Term,
    TermKind,
    UpdateKind,
)
from feedback.updates.queries import TERM_FIELDS, get_term

# Writing ------------------------------------------------------------------------------

def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.replace("\n", ",").split(","))
                if part]
    if isinstance(value, list | tuple):
        if not all(isinstance(item, str) for item in value):
            raise ValidationError(_l("Tags must be text."))
        return [item.strip() for item in value if item.strip()]
    raise ValidationError(_l("Tags must be a list of text."))


def _terms(kind: TermKind, value: Any, field: str, actor: Any = None) -> list[Term]:
    """Terms by name, made on first use. A new topic from an editor (``actor``) is a
    suggestion for the moderators; from the operator's tools it is on the list at once."""
    names = _split(value)
    if len(names) > MAX_TERMS:
        raise ValidationError(_l("Use at most %(count)s tags.", count=MAX_TERMS), field)
    terms: dict[str, Term] = {}
    for raw in names:
        name = clean_text(raw, label=_l("each tag"), max_length=TERM_MAX, field=field)
        if kind == TermKind.TOPIC:
            name = topics.normalise_name(name)
        slug = slugify(name)
        if slug in terms:
            continue
        term = get_term(kind, slug)
        if term is None:
            term = Term(kind=kind, slug=slug, name=name,
                        approved=kind != TermKind.TOPIC or actor is None)
            db.session.add(term)
            if not term.approved:
                audit.record("topic.suggested", actor=actor, target=None,
                             summary=f"Suggested the topic {name}"[:300])
        terms[slug] = term
    return list(terms.values())


def _catalogue(model: type, value: Any, field: str, label: str) -> list:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else [value]
    wrong = _l("Choose %(label)s from the catalogue.", label=label)
    ids: set[int] = set()
    slugs: set[str] = set()
    for item in items:
        if isinstance(item, bool):
            raise ValidationError(wrong, field)
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit()
                                     and len(item) < 12):
            if not 0 < int(item) <= MAX_ID:
                raise ValidationError(wrong, field)
            ids.add(int(item))
        elif isinstance(item, str) and 0 < len(item) <= 80:
            slugs.add(item)
        else:
            raise ValidationError(wrong, field)
    found = db.session.scalars(select(model).where(
        or_(model.id.in_(ids), model.slug.in_(slugs)))).all()
    if len(found) != len(ids) + len(slugs):
        raise ValidationError(wrong, field)
    return list(found)


def _date(value: Any, label: str, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(_l("Enter %(label)s as a real date, like 2027-03-31.", label=label),
                          field)


def _evidence(value: Any) -> list[tuple[str, str]]:
    """Evidence links from a list of ``{"title", "url"}`` or lines of ``title | url``."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        entries = []
        for line in value.splitlines():
            if not line.strip():
                continue
            title, _sep, url = line.rpartition("|")
            entries.append({"title": title.strip(), "url": url.strip()})
    elif isinstance(value, list | tuple):
        entries = list(value)
    else:
        raise ValidationError(_l("Evidence links must be a list."), "evidence_links")
    if len(entries) > MAX_EVIDENCE_LINKS:
        raise ValidationError(_l("Give at most %(count)s evidence links.",
                                 count=MAX_EVIDENCE_LINKS),
                              "evidence_links")
    links = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise ValidationError(_l("Each evidence link needs a web address."), "evidence_links")
        url = clean_url(entry.get("url") if isinstance(entry.get("url"), str) else None,
                        label=_l("each evidence link"), field="evidence_links", required=True)
        title_value = entry.get("title")
        title = clean_text(title_value if isinstance(title_value, str) else None,
                           label=_l("the evidence link's title"), max_length=LINK_TITLE_MAX,
                           field="evidence_links")
        links.append((title, url))
    return links


def _text(data: Mapping[str, Any], name: str) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError(_l("%(field)s must be text.", field=name), name)
    return value


def clean_update(data: Mapping[str, Any], actor: Any = None) -> dict[str, Any]:
    """Check a whole update. Over-long text is rejected with a message, never cut. New
    topics from ``actor`` (an editor) become suggestions for the moderators."""
    cleaned: dict[str, Any] = {
        "title": clean_text(_text(data, "title"), label=_l("a title"), max_length=TITLE_MAX,
                            required=True, field="title"),
        "summary": clean_text(_text(data, "summary"), label=_l("a summary"),
                              max_length=SUMMARY_MAX, required=True, field="summary",
                              multiline=True),
        "body": clean_text(_text(data, "body"), label=_l("the full story"), max_length=BODY_MAX,
                           field="body", multiline=True),
        "what_changed": clean_text(_text(data, "what_changed"), label=_l("what changed"),
                                   max_length=LONG_TEXT_MAX, field="what_changed",
                                   multiline=True),
        "who_benefits": clean_text(_text(data, "who_benefits"), label=_l("who benefits"),
                                   max_length=LONG_TEXT_MAX, field="who_benefits",
                                   multiline=True),
        "purpose": clean_text(_text(data, "purpose"), label=_l("the purpose"),
                              max_length=LONG_TEXT_MAX, field="purpose", multiline=True),
        "legal_basis": clean_text(_text(data, "legal_basis"), label=_l("the legal basis"),
                                  max_length=LEGAL_BASIS_MAX, field="legal_basis",
                                  multiline=True),
    }
    try:
        cleaned["kind"] = UpdateKind(data.get("kind"))
    except ValueError:
        raise ValidationError(_l("Choose what kind of update this is."), "kind") from None
    try:
        cleaned["opt_out_applied"] = OptOutApplied(data.get("opt_out_applied")
                                                   or OptOutApplied.NOT_APPLICABLE)
    except ValueError:
        raise ValidationError(_l("Say whether national data opt-outs were applied."),
                              "opt_out_applied") from None
    cleaned["content_checked_on"] = _date(data.get("content_checked_on"),
                                          _l("the date the content was checked"),
                                          "content_checked_on")
    cleaned["next_check_due"] = _date(data.get("next_check_due"), _l("the next check date"),
                                      "next_check_due")
    if (cleaned["content_checked_on"] and cleaned["next_check_due"]
            and cleaned["next_check_due"] < cleaned["content_checked_on"]):
        raise ValidationError(_l("The next check must be after the date it was checked."),
                              "next_check_due")
    cleaned["datasets"] = _catalogue(Dataset, data.get("datasets"), "datasets",
                                     _l("the datasets used"))
    if not cleaned["datasets"]:
        raise ValidationError(_l("Choose at least one dataset that was used."), "datasets")
    cleaned["services"] = _catalogue(Service, data.get("services"), "services",
                                     _l("the services affected"))
    for name, kind in TERM_FIELDS.items():
        cleaned[name] = _terms(kind, data.get(name), name, actor)
    cleaned["evidence_links"] = _evidence(data.get("evidence_links"))
    priority = data.get("answers_priority_id")
    if priority in (None, ""):
        cleaned["answers_priority_id"] = None
    elif isinstance(priority, int) and not isinstance(priority, bool) and 0 < priority <= MAX_ID:
        cleaned["answers_priority_id"] = priority
    elif isinstance(priority, str) and priority.isdigit() and 0 < int(priority) <= MAX_ID:
        cleaned["answers_priority_id"] = int(priority)
    else:
        raise ValidationError(_l("Choose a research priority from the list."),
                              "answers_priority_id")
    if cleaned["answers_priority_id"] is not None:
        from feedback.priorities.services import linkable_priority

        if linkable_priority(cleaned["answers_priority_id"]) is None:
            raise ValidationError(_l("Choose a research priority from the list."),
                                  "answers_priority_id")
    return cleaned
