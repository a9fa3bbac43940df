"""Fixtures for research priority rounds: a round in any phase with a shortlist."""

from __future__ import annotations

import pytest

from feedback.extensions import db
from feedback.priorities import services
from feedback.priorities.models import Phase


@pytest.fixture
def trust(make_org):
    return make_org(kind="nhs", name="Riverside Hospitals")


@pytest.fixture
def partner(make_org):
    return make_org(kind="vcse", name="Sickle Cell Support Network")


@pytest.fixture
def organiser(make_user, trust):
    return make_user(org=trust, org_role="editor", name="Trust Organiser")


@pytest.fixture
def partner_staff(make_user, partner):
    return make_user(org=partner, org_role="admin", name="Partner Staff")


@pytest.fixture
def make_round(app, trust, partner, organiser, partner_staff):
    """A round the trust started, which the partner accepted to run with it."""
    def make(phase: str = "suggestions", priorities: int = 4, **data):
        round_ = services.create_round(organiser, [trust, partner], {
            "title": data.pop("title", "Sickle cell research priorities"),
            "scope": "What should research using patient data about sickle cell look at?",
            "topics": "sickle cell, pain, emergency care", "area": "Birmingham",
            "groups": ["patients", "carers", "community"], **data})
        for invitation in services.round_invitations(round_):
            services.decide_invitation(partner_staff, invitation, accept=True)
        created = []
        for number in range(1, priorities + 1):
            created.append(services.create_priority(organiser, round_, {
                "title": f"Priority question {number}",
                "description": f"Plain description {number}"}))
        if created:
            services.publish_shortlist(organiser, round_, [p.id for p in created])
        round_.phase = Phase(phase)
        db.session.commit()
        return round_

    return make


@pytest.fixture
def voting_round(make_round):
    return make_round("voting")


@pytest.fixture
def sign_in_as(client):
    """Like ``login_as``, but also forgets the person Flask-Login remembered in ``g``:
    the test app context lives across requests, so switching people needs this."""
    from flask import g

    from tests.conftest import login

    def sign_in(user=None):
        g.pop("_login_user", None)
        if user is None:
            with client.session_transaction() as session:
                session.clear()
        else:
            login(client, user)
        return client

    return sign_in
