"""Demo translators and demo translations.

Translators: partner staff who review translations into their communities' languages
(granted by their own organisation's admin).

Translations: reviewed translations of the demo content in Urdu, Bengali, Polish and
Somali, kept in ``demo_translations/<code>.json`` keyed by the source segment, so the
translated experience shows without a translation provider. They are marked as demo data
(origin ``demo``; machine drafts ``demo-machine``), go through the same checks as any
reviewed text (numbers, links, formatting), and never overwrite a person's work.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from feedback.accounts.models import User
from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.organisations.models import Organisation
from feedback.translation.models import SegmentStatus, TranslationSegment, TranslatorGrant
from feedback.translation.registry import record_all_owners
from feedback.translation.segments import Segment, differences, hash_segment

# (partner slug, staff email, languages)
TRANSLATORS = [
    ("apna-health-forum", "staff@apna.example.org", ["ur", "pa-Arab", "pa-Guru", "bn"]),
    ("harambee-womens-group", "staff@harambee.example.org", ["so"]),
    # Partners that run a round with a trust review that round's text.
    ("sickle-cell-support-network", "staff@sicklecell.example.org", ["ur", "bn", "so"]),
]

FOLDER = Path(__file__).with_name("demo_translations")
DEMO_ORIGIN = "demo"
DEMO_MACHINE_ORIGIN = "demo-machine"


class DemoTranslationError(ValueError):
    """A demo translation that fails the checks every reviewed translation must pass."""


def demo_translations() -> dict[str, dict]:
    """Each language's file: ``approved`` and ``machine_drafts`` (source -> text), and
    ``not_yet_translated`` (sources left in English on purpose)."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(FOLDER.glob("*.json"))}


def seed_translators() -> int:
    """Grant the demo translator roles that are missing; return how many were added."""
    created = 0
    for slug, email, languages in TRANSLATORS:
        org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
        user = db.session.scalar(select(User).where(User.email == email))
        if org is None or user is None:
            continue
        have = set(db.session.scalars(select(TranslatorGrant.language).where(
            TranslatorGrant.user_id == user.id, TranslatorGrant.organisation_id == org.id)))
        for code in languages:
            if code not in have:
                db.session.add(TranslatorGrant(user_id=user.id, organisation_id=org.id,
                                               language=code))
                created += 1
    db.session.flush()
    return created


def seed_translations() -> int:
    """Store the demo translations on the queued segments that nobody has translated or
    reviewed yet; returns how many were stored. A translation that changes a number, a
    link or the formatting is refused (DemoTranslationError)."""
    db.session.flush()  # queue the demo content's segments first
    now = utcnow()
    stored = 0
    for code, data in demo_translations().items():
        wanted = [(source, text, SegmentStatus.APPROVED, DEMO_ORIGIN)
                  for source, text in data.get("approved", {}).items()]
        wanted += [(source, text, SegmentStatus.MACHINE_DRAFT, DEMO_MACHINE_ORIGIN)
                   for source, text in data.get("machine_drafts", {}).items()]
        rows = {row.source_hash: row for row in db.session.scalars(
            select(TranslationSegment).where(
                TranslationSegment.target_language == code,
                TranslationSegment.source_hash.in_(
                    [hash_segment(source) for source, *_ in wanted])))}
        for source, text, status, origin in wanted:
            row = rows.get(hash_segment(source))
            if row is None or row.status not in (SegmentStatus.PENDING,
                                                 SegmentStatus.MACHINE_DRAFT):
                continue  # not in this site's content, or a person has worked on it
            if (row.status, row.text) == (status, text):
                continue  # seeded before
            found = differences(Segment(row.source_text, row.text_format), text)
            if found:
                raise DemoTranslationError(
                    f"{code}: {source!r} differs in {', '.join(d.kind for d in found)}")
            row.text, row.status, row.origin = text, status, origin
            row.translated_at = row.translated_at or now
            row.last_error = None
            if status == SegmentStatus.APPROVED:
                row.approved_at = now
            stored += 1
    db.session.flush()
    return stored


def seed() -> int:
    """Demo translators, owners of the demo content's segments, and demo translations."""
    created = seed_translators()
    record_all_owners(db.session)
    return created + seed_translations()
