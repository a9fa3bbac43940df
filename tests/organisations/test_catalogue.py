"""Organisations, datasets and services: public pages and members' forms."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from feedback.audit.models import AuditEvent
from feedback.extensions import db
from feedback.organisations.models import Dataset, Service


def test_public_pages_list_organisations_datasets_and_services(client, make_org, make_dataset,
                                                               make_service):
    trust = make_org(name="Riverside Trust", area="Birmingham")
    make_org(kind="vcse", name="Apna Health Forum")
    make_dataset(trust, name="Hospital Episode Statistics")
    make_service(trust, name="Sickle cell day unit", area="Birmingham")

    listing = client.get("/organisations").get_data(as_text=True)
    assert "Riverside Trust" in listing and "Apna Health Forum" in listing
    vcse_only = client.get("/organisations?kind=vcse").get_data(as_text=True)
    assert "Apna Health Forum" in vcse_only and "Riverside Trust" not in vcse_only
    detail = client.get(f"/organisations/{trust.slug}").get_data(as_text=True)
    assert "Hospital Episode Statistics" in detail and "Sickle cell day unit" in detail
    assert "Hospital Episode Statistics" in client.get("/datasets").get_data(as_text=True)
    assert "Sickle cell day unit" in client.get("/services").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/organisations/nope", "/datasets/nope", "/services/nope",
                                  "/organisations/nope/edit"])
def test_unknown_slugs_are_not_found(client, path):
    assert client.get(path).status_code in (404, 302)
    if not path.endswith("/edit"):
        assert "Page not found" in client.get(path).get_data(as_text=True)


def test_an_unknown_kind_filter_is_a_clear_400(client):
    response = client.get("/organisations?kind=spaceship")
    assert response.status_code == 400
    assert "Unknown kind of organisation" in response.get_data(as_text=True)


def test_an_editor_adds_edits_and_deletes_a_dataset(make_org, make_user, login_as):
    trust = make_org()
    custodian = make_org(name="NHS England")
    client = login_as(make_user(org=trust))
    response = client.post(f"/organisations/{trust.slug}/datasets/new", data={
        "name": "Maternity Services Data Set", "custodian_id": str(custodian.id),
        "description": "Pregnancy and birth", "link": "https://example.org/msds"})
    assert response.status_code == 302
    dataset = db.session.scalar(select(Dataset))
    assert dataset.custodian_label == "NHS England"
    assert dataset.slug == "maternity-services-data-set"

    response = client.post(f"/datasets/{dataset.slug}/edit", data={
        "name": "Maternity Services Data Set", "custodian_id": "", "custodian_name":
        "Local maternity system", "description": "Changed", "link": ""})
    assert response.status_code == 302
    db.session.refresh(dataset)
    assert dataset.description == "Changed" and dataset.custodian_label == "Local maternity system"

    assert client.post(f"/datasets/{dataset.slug}/delete").status_code == 303
    assert db.session.scalar(select(func.count(Dataset.id))) == 0
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"dataset.created", "dataset.updated", "dataset.deleted"} <= set(actions)


@pytest.mark.parametrize(
    ("data", "message"),
    [({"name": ""}, "Enter the service name"),
     ({"name": "x" * 201}, "200 characters or fewer"),
     ({"name": "Clinic", "description": "y" * 5001}, "5,000 characters or fewer"),
     ({"name": "Clinic", "area": "z" * 121}, "120 characters or fewer")],
)
def test_bad_service_input_is_rejected_with_a_message_and_nothing_saved(make_org, make_user,
                                                                       login_as, data, message):
    trust = make_org()
    client = login_as(make_user(org=trust))
    response = client.post(f"/organisations/{trust.slug}/services/new", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "There is a problem" in page
    assert db.session.scalar(select(func.count(Service.id))) == 0


def test_a_dataset_link_must_be_a_web_address(make_org, make_user, login_as):
    trust = make_org()
    client = login_as(make_user(org=trust))
    response = client.post(f"/organisations/{trust.slug}/datasets/new",
                           data={"name": "HES", "link": "javascript:alert(1)"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Dataset.id))) == 0


def test_org_admins_edit_their_profile_but_not_its_kind(make_org, make_user, login_as):
    trust = make_org(name="Old name")
    client = login_as(make_user(org=trust, org_role="admin"))
    response = client.post(f"/organisations/{trust.slug}/edit", data={
        "name": "New name", "kind": "vcse", "area": "Leeds", "ods_code": "rx1",
        "website": "https://example.org", "description": "About us"})
    assert response.status_code == 302
    db.session.refresh(trust)
    assert (trust.name, trust.kind.value, trust.ods_code, trust.area) == ("New name", "nhs",
                                                                          "RX1", "Leeds")


def test_platform_admins_add_and_verify_organisations(make_user, login_as):
    client = login_as(make_user(role="admin"))
    response = client.post("/admin/organisations/new", data={
        "name": "Harambee Women's Group", "kind": "vcse", "area": "Brent"})
    assert response.status_code == 302
    slug = response.headers["Location"].rsplit("/", 1)[-1]
    assert slug == "harambee-women-s-group"
    assert "Not yet verified" in client.get(f"/organisations/{slug}").get_data(as_text=True)
    client.post(f"/admin/organisations/{slug}/verification", data={"verified": "yes"})
    assert "Not yet verified" not in client.get(f"/organisations/{slug}").get_data(as_text=True)


def test_emails_are_never_shown_on_public_pages(client, make_org, make_user):
    trust = make_org()
    make_user(email="private.person@example.org", org=trust, org_role="admin")
    for path in ["/", "/organisations", f"/organisations/{trust.slug}"]:
        assert "private.person" not in client.get(path).get_data(as_text=True)
