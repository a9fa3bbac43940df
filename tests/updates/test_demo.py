"""The demo seed adds realistic updates for every demo trust, and is safe to run again."""

from __future__ import annotations

from sqlalchemy import func, select

from feedback.demo import seed
from feedback.extensions import db
from feedback.organisations.models import Organisation, OrganisationKind
from feedback.updates.models import Update, UpdateStatus


def test_demo_updates_for_every_trust_and_idempotent(app):
    assert seed() > 0
    db.session.commit()
    published = db.session.scalars(select(Update).where(
        Update.status == UpdateStatus.PUBLISHED)).all()
    trusts = db.session.scalars(select(Organisation.id).where(
        Organisation.kind == OrganisationKind.NHS)).all()
    assert set(trusts) <= {u.organisation_id for u in published}
    titles = " ".join(u.title.lower() for u in published)
    for theme in ["sickle cell", "interpreter", "diabetes", "talking therapies", "ethnicity"]:
        assert theme in titles, theme
    assert any(u.revisions for u in published)
    count = db.session.scalar(select(func.count(Update.id)))
    assert seed() == 0
    assert db.session.scalar(select(func.count(Update.id))) == count
