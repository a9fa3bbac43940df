"""Topics are a curated list that platform moderators keep.

Editors pick topics from the list; a topic they type that is not on it is saved as a
suggestion, attached to their update but shown to nobody until a moderator approves it
(perhaps under a better name, or merged into a topic already on the list) or rejects it.
Topics made by the operator's own tools (the CLI and the demo seed) are on the list at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from feedback.accounts.permissions import require_moderator
from feedback.audit import services as audit
from feedback.core.validation import ValidationError, clean_text, slugify
from feedback.extensions import db
from feedback.updates.models import TERM_MAX, Term, TermKind, update_terms


def normalise_name(name: str) -> str:
    """One spelling for one topic: single spaces, and a capital first letter ("discharge"
    becomes "Discharge"; "NHS data" and "eGFR tests" keep theirs)."""
    name = " ".join(name.split())
    if name[:1].islower() and not name[1:2].isupper():
        name = name[0].upper() + name[1:]
    return name


def approved_topics() -> Sequence[Term]:
    """The curated list editors choose from, by name."""
    return db.session.scalars(select(Term).where(Term.kind == TermKind.TOPIC,
                                                 Term.approved.is_(True))
                              .order_by(Term.name)).all()


def suggested_topics() -> Sequence[Any]:
    """Topics waiting for a moderator, oldest first, each with how many updates use it."""
    uses = (select(func.count()).where(update_terms.c.term_id == Term.id)
            .correlate(Term).scalar_subquery())
    return db.session.execute(select(Term, uses).where(Term.kind == TermKind.TOPIC,
                                                       Term.approved.is_(False))
                              .order_by(Term.id)).all()


def get_suggestion(term_id: int) -> Term | None:
    term = db.session.get(Term, term_id)
    if term is None or term.kind != TermKind.TOPIC or term.approved:
        return None
    return term


def _move_uses(source: Term, target: Term) -> None:
    """Point every update that uses ``source`` at ``target`` instead (once each)."""
    already = select(update_terms.c.update_id).where(update_terms.c.term_id == target.id)
    db.session.execute(update(update_terms).where(update_terms.c.term_id == source.id,
                                                  update_terms.c.update_id.not_in(already))
                       .values(term_id=target.id))
    db.session.execute(delete(update_terms).where(update_terms.c.term_id == source.id))


def approve(actor: Any, term: Term, name: str | None = None) -> Term:
    """Put a suggested topic on the list, under ``name`` if the moderator corrected it. A
    name already on the list merges the suggestion into that topic. Returns the topic
    the updates now carry."""
    require_moderator(actor)
    wanted = normalise_name(clean_text(name or term.name, label=_("the topic's name"),
                                       max_length=TERM_MAX, required=True, field="name"))
    slug = slugify(wanted)
    if not slug:
        raise ValidationError(_("Give the topic a name with letters or numbers."), "name")
    existing = db.session.scalar(select(Term).where(Term.kind == TermKind.TOPIC,
                                                    Term.slug == slug, Term.id != term.id))
    summary = f"Approved the topic {wanted}"
    if existing is not None:
        _move_uses(term, existing)
        existing.approved = True
        summary = f"Merged the suggested topic {term.name} into {existing.name}"
        db.session.delete(term)
        term = existing
    else:
        term.name, term.slug, term.approved = wanted, slug, True
    db.session.flush()
    db.session.expire_all()  # updates' cached term lists
    audit.record("topic.approved", actor=actor, target=term, summary=summary[:300])
    return term


def reject(actor: Any, term: Term) -> None:
    """Take a suggested topic off every update that carries it, and delete it."""
    require_moderator(actor)
    audit.record("topic.rejected", actor=actor, target=term,
                 summary=f"Rejected the suggested topic {term.name}"[:300])
    db.session.execute(delete(update_terms).where(update_terms.c.term_id == term.id))
    db.session.delete(term)
    db.session.flush()
    db.session.expire_all()
