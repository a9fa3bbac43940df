"""Demo translators: partner staff who review translations into their communities'
languages (granted by their own organisation's admin)."""

from __future__ import annotations

from sqlalchemy import select

from feedback.accounts.models import User
from feedback.extensions import db
from feedback.organisations.models import Organisation
from feedback.translation.models import TranslatorGrant

# (partner slug, staff email, languages)
TRANSLATORS = [
    ("apna-health-forum", "staff@apna.example.org", ["ur", "pa-Arab", "pa-Guru", "bn"]),
    ("harambee-womens-group", "staff@harambee.example.org", ["so"]),
]


def seed() -> int:
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
