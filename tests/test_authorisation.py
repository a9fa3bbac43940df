"""Each organisation's data is writable only by its own members: an editor of trust A gets
403 on every route that writes trust B's data, and the data is unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from feedback.audit.models import AuditEvent
from feedback.extensions import db

# Routes that write but belong to no organisation, with the reason they are out of scope.
NOT_ORGANISATION_DATA = {
    "/sign-in": "anyone may ask for a sign-in link",
    "/sign-in/<token>": "single-use link for the person it was sent to",
    "/sign-out": "own session",
    "/account": "own profile",
    "/account/delete": "own account",
    "/invitations/<token>": "invitation for the person it was sent to",
    "/admin/organisations/new": "platform admins only (tested below)",
    "/admin/organisations/<slug>/verification": "platform admins only (tested below)",
    "/admin/users/role": "platform admins only (tested below)",
}


@pytest.fixture
def two_trusts(make_org, make_user, make_dataset, make_service):
    trust_a, trust_b = make_org(name="Trust A"), make_org(name="Trust B")
    editor_a = make_user(org=trust_a, org_role="admin")
    admin_b = make_user(org=trust_b, org_role="admin")
    return {
        "editor_a": editor_a,
        "trust_b": trust_b,
        "dataset_b": make_dataset(trust_b, name="B records"),
        "service_b": make_service(trust_b, name="B clinic"),
        "membership_b": admin_b.memberships[0],
    }


def organisation_b_urls(objects) -> dict[str, str]:
    """Every writing route, pointed at trust B's data."""
    slug = objects["trust_b"].slug
    return {
        "/organisations/<slug>/edit": f"/organisations/{slug}/edit",
        "/organisations/<slug>/members": f"/organisations/{slug}/members",
        "/organisations/<slug>/members/<int:membership_id>/role":
            f"/organisations/{slug}/members/{objects['membership_b'].id}/role",
        "/organisations/<slug>/members/<int:membership_id>/remove":
            f"/organisations/{slug}/members/{objects['membership_b'].id}/remove",
        "/organisations/<slug>/datasets/new": f"/organisations/{slug}/datasets/new",
        "/datasets/<slug>/edit": f"/datasets/{objects['dataset_b'].slug}/edit",
        "/datasets/<slug>/delete": f"/datasets/{objects['dataset_b'].slug}/delete",
        "/organisations/<slug>/services/new": f"/organisations/{slug}/services/new",
        "/services/<slug>/edit": f"/services/{objects['service_b'].slug}/edit",
        "/services/<slug>/delete": f"/services/{objects['service_b'].slug}/delete",
    }


# Other domains check their own routes the same way (tests/<domain>/), and the full
# role-by-route matrix covers every domain.
FOUNDATION_BLUEPRINTS = {"core", "accounts", "organisations", "admin"}


def writing_rules(app) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules()
            if {"POST", "PUT", "PATCH", "DELETE"} & (rule.methods or set())
            and rule.endpoint.split(".")[0] in FOUNDATION_BLUEPRINTS}


def test_every_writing_route_is_classified(app, two_trusts):
    classified = set(organisation_b_urls(two_trusts)) | set(NOT_ORGANISATION_DATA)
    assert writing_rules(app) - classified == set(), "add new writing routes to this test"


def _snapshot() -> list:
    from feedback.models import Dataset, Membership, Organisation, Service

    return [
        db.session.execute(select(Organisation.name, Organisation.description)).all(),
        db.session.execute(select(Dataset.name, Dataset.description)).all(),
        db.session.execute(select(Service.name, Service.description)).all(),
        db.session.execute(select(Membership.user_id, Membership.role)).all(),
    ]


FORM = {"name": "Hijacked", "description": "changed by another trust", "kind": "nhs",
        "email": "attacker@example.org", "role": "admin"}


def test_an_editor_of_trust_a_cannot_write_anything_of_trust_b(app, client, two_trusts):
    from tests.conftest import login

    login(client, two_trusts["editor_a"])
    before = _snapshot()
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    for rule, url in organisation_b_urls(two_trusts).items():
        response = client.post(url, data=FORM)
        assert response.status_code == 403, f"{rule} answered {response.status_code}"
        if rule.endswith(("/edit", "/new", "/members")):
            assert client.get(url).status_code == 403, f"GET {rule} should be refused too"
    db.session.expire_all()
    assert _snapshot() == before
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events


@pytest.mark.parametrize("role", [None, "member", "moderator"])
def test_only_platform_admins_manage_organisations_and_roles(app, client, make_user, make_org,
                                                             role):
    from tests.conftest import login

    org = make_org()
    if role:
        login(client, make_user(role=role))
    expected = 403 if role else 302  # anonymous people are sent to sign in
    for url in ["/admin/organisations/new", f"/admin/organisations/{org.slug}/verification",
                "/admin/users/role"]:
        assert client.post(url, data={**FORM, "verified": "yes"}).status_code == expected
    db.session.refresh(org)
    assert org.verified is False
