"""Fixtures for updates: a trust with a dataset and a service, and an update factory."""

from __future__ import annotations

import pytest

from feedback.extensions import db


@pytest.fixture
def trust(make_org):
    return make_org(name="Riverside Hospitals", slug="riverside")


@pytest.fixture
def dataset(make_dataset, trust):
    return make_dataset(trust, name="Sickle cell emergency attendances")


@pytest.fixture
def service(make_service, trust):
    return make_service(trust, name="Emergency department", area="Birmingham")


@pytest.fixture
def editor(make_user, trust):
    return make_user(org=trust, org_role="editor", name="Riverside Data Team")


def update_data(dataset, service=None, **overrides) -> dict:
    data = {
        "title": "Faster pain relief for sickle cell crises in A&E",
        "summary": "We looked at how long people with sickle cell waited for pain relief. "
                   "Now they get it within 30 minutes.",
        "body": "## What we found\n\nPeople waited **over an hour** on average.",
        "kind": "service_change",
        "what_changed": "A fast-track for sickle cell pain crises.",
        "who_benefits": "People living with sickle cell and their families.",
        "purpose": "Improving emergency care.",
        "legal_basis": "Direct care and service evaluation.",
        "opt_out_applied": "not_applicable",
        "datasets": [dataset.id],
        "services": [service.id] if service is not None else [],
        "topics": ["Sickle cell", "Emergency care"],
        "areas": ["Birmingham"],
        "community_tags": ["Black Caribbean families"],
        "evidence_links": [{"title": "Audit report", "url": "https://example.org/audit"}],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_update(app, trust, dataset, service):
    from feedback.updates import services

    def make(org=None, publish: bool = True, datasets=None, **overrides):
        data = update_data(dataset, service, **overrides)
        if datasets is not None:
            data["datasets"] = [d.id for d in datasets]
        update = services.create_update(None, org or trust, data)
        if publish:
            services.publish_update(None, update)
        db.session.commit()
        return update

    return make


@pytest.fixture
def sign_in_as(client):
    """Sign ``user`` in on the shared client, also after someone else. The ``app`` fixture
    keeps one app context for the whole test, so Flask-Login's cached user in ``g`` must
    be dropped when the person changes."""
    from flask import g

    from tests.conftest import login

    def sign_in(user):
        g.pop("_login_user", None)
        login(client, user)
        return client

    return sign_in


@pytest.fixture
def token(trust) -> str:
    """A live API token for ``trust``."""
    from feedback.api import tokens

    secret, _record = tokens.create_token(None, trust, "tests")
    db.session.commit()
    return secret


@pytest.fixture
def auth(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
