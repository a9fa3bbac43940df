"""Organisation and catalogue operations, shared by views, the API and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, literal, select
from sqlalchemy.orm import joinedload

from feedback.accounts.permissions import require_admin, require_org_admin, require_org_editor
from feedback.audit import services as audit
from feedback.core.exceptions import found
from feedback.core.validation import (
    ValidationError,
    clean_slug,
    clean_text,
    clean_url,
    slugify,
)
from feedback.extensions import db
from feedback.organisations.models import (
    AREA_MAX,
    DESCRIPTION_MAX,
    NAME_MAX,
    Dataset,
    Organisation,
    OrganisationKind,
    Service,
)


def _unique_slug(model: type, wanted: str, current_id: int | None = None) -> str:
    """``wanted`` if free, else ``wanted-2``, ``wanted-3`` ..."""
    base, candidate, number = wanted, wanted, 1
    while db.session.scalar(select(exists().where(model.slug == candidate,
                                                  model.id != (current_id or 0)))):
        number += 1
        candidate = f"{base[:70]}-{number}"
    return candidate


def _clean_common(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = {
        "name": clean_text(data.get("name"), label=_l("a name"), max_length=NAME_MAX,
                           required=True, field="name"),
        "description": clean_text(data.get("description"), label=_l("the description"),
                                  max_length=DESCRIPTION_MAX, field="description",
                                  multiline=True),
    }
    if "area" in data:
        cleaned["area"] = clean_text(data.get("area"), label=_l("the area"), max_length=AREA_MAX,
                                     field="area")
    return cleaned


def get_organisation(slug: str) -> Organisation:
    return found(db.session.scalar(select(Organisation).where(Organisation.slug == slug)))


def get_dataset(slug: str) -> Dataset:
    statement = (select(Dataset).options(joinedload(Dataset.organisation),
                                         joinedload(Dataset.custodian))
                 .where(Dataset.slug == slug))
    return found(db.session.scalar(statement))


def get_service(slug: str) -> Service:
    statement = (select(Service).options(joinedload(Service.organisation))
                 .where(Service.slug == slug))
    return found(db.session.scalar(statement))


def list_organisations(kind: OrganisationKind | None = None) -> Sequence[Organisation]:
    statement = select(Organisation).order_by(Organisation.name)
    if kind is not None:
        statement = statement.where(Organisation.kind == kind)
    return db.session.scalars(statement).all()


def list_datasets(organisation_id: int | None = None) -> Sequence[Dataset]:
    statement = (select(Dataset).options(joinedload(Dataset.organisation),
                                         joinedload(Dataset.custodian))
                 .order_by(Dataset.name))
    if organisation_id is not None:
        statement = statement.where(Dataset.organisation_id == organisation_id)
    return db.session.scalars(statement).all()


def list_services(organisation_id: int | None = None) -> Sequence[Service]:
    statement = (select(Service).options(joinedload(Service.organisation))
                 .order_by(Service.name))
    if organisation_id is not None:
        statement = statement.where(Service.organisation_id == organisation_id)
    return db.session.scalars(statement).all()


def create_organisation(actor: Any, data: dict[str, Any]) -> Organisation:
    """Add an organisation (platform admins, or the CLI and seed with ``actor=None``)."""
    if actor is not None:
        require_admin(actor)
    cleaned = _clean_organisation(data)
    slug = clean_slug(data["slug"]) if data.get("slug") else slugify(cleaned["name"])
    if data.get("slug") and db.session.scalar(select(exists().where(Organisation.slug == slug))):
        raise ValidationError(_("That short name is already used by another organisation."), "slug")
    organisation = Organisation(slug=_unique_slug(Organisation, slug), **cleaned)
    organisation.verified = bool(data.get("verified", False))
    db.session.add(organisation)
    db.session.flush()
    audit.record("organisation.created", actor=actor, organisation=organisation,
                 target=organisation, summary=f"Created {organisation.name}")
    return organisation


def _clean_organisation(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = _clean_common({**data, "area": data.get("area", "")})
    try:
        cleaned["kind"] = OrganisationKind(data.get("kind"))
    except ValueError:
        raise ValidationError(_("Choose what kind of organisation this is."), "kind") from None
    ods = clean_text(data.get("ods_code"), label=_l("the ODS code"), max_length=10,
                     field="ods_code")
    if ods and not ods.isalnum():
        raise ValidationError(_("An ODS code has only letters and numbers, like RJ1."), "ods_code")
    cleaned["ods_code"] = ods.upper() or None
    cleaned["website"] = clean_url(data.get("website"), label=_l("the website"), field="website")
    return cleaned


def update_organisation(actor: Any, organisation: Organisation,
                        data: dict[str, Any]) -> Organisation:
    """Org admins edit their own organisation's profile (not its kind or verification)."""
    require_org_admin(actor, organisation.id)
    cleaned = _clean_organisation({**data, "kind": organisation.kind.value})
    for key, value in cleaned.items():
        setattr(organisation, key, value)
    db.session.flush()
    audit.record("organisation.updated", actor=actor, organisation=organisation,
                 target=organisation, summary="Profile updated")
    return organisation


def set_verified(actor: Any, organisation: Organisation, verified: bool) -> Organisation:
    """Platform admins confirm that an organisation is who it says it is."""
    require_admin(actor)
    organisation.verified = verified
    db.session.flush()
    audit.record("organisation.verified" if verified else "organisation.unverified",
                 actor=actor, organisation=organisation, target=organisation,
                 summary="Verified" if verified else "Verification removed")
    return organisation


def _clean_dataset(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = _clean_common(data)
    cleaned["custodian_name"] = clean_text(data.get("custodian_name"), label=_l("the custodian"),
                                           max_length=NAME_MAX, field="custodian_name")
    custodian_id = data.get("custodian_id") or None
    if custodian_id is not None:
        if db.session.get(Organisation, int(custodian_id)) is None:
            raise ValidationError(_("Choose a custodian from the list."), "custodian_id")
        custodian_id = int(custodian_id)
    cleaned["custodian_id"] = custodian_id
    cleaned["link"] = clean_url(data.get("link"), label=_l("the link"), field="link")
    return cleaned


def create_dataset(actor: Any, organisation: Organisation, data: dict[str, Any]) -> Dataset:
    """Add a dataset to the catalogue. Editors of ``organisation`` only (``actor=None``
    is the CLI and the demo seed)."""
    if actor is not None:
        require_org_editor(actor, organisation.id)
    cleaned = _clean_dataset(data)
    dataset = Dataset(organisation_id=organisation.id,
                      slug=_unique_slug(Dataset, slugify(cleaned["name"])), **cleaned)
    db.session.add(dataset)
    db.session.flush()
    audit.record("dataset.created", actor=actor, organisation=organisation, target=dataset,
                 summary=f"Added dataset {dataset.name}")
    return dataset


def update_dataset(actor: Any, dataset: Dataset, data: dict[str, Any]) -> Dataset:
    require_org_editor(actor, dataset.organisation_id)
    for key, value in _clean_dataset(data).items():
        setattr(dataset, key, value)
    db.session.flush()
    audit.record("dataset.updated", actor=actor, organisation=dataset.organisation,
                 target=dataset, summary=f"Edited dataset {dataset.name}")
    return dataset


def _used_elsewhere(item: Dataset | Service) -> bool:
    """Whether another domain's rows point at ``item`` through a RESTRICT foreign key
    (updates name their datasets and services). SQLite does not enforce it, so check."""
    target = item.__table__
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is target and key.ondelete == "RESTRICT":
                used = db.session.scalar(select(literal(1)).select_from(table).where(
                    key.parent == item.id).limit(1))
                if used:
                    return True
    return False


def delete_dataset(actor: Any, dataset: Dataset) -> None:
    require_org_editor(actor, dataset.organisation_id)
    if _used_elsewhere(dataset):
        raise ValidationError(_("This dataset is named in published or draft updates, so it "
                                "cannot be deleted. Edit its description instead."))
    audit.record("dataset.deleted", actor=actor, organisation=dataset.organisation,
                 target=dataset, summary=f"Deleted dataset {dataset.name}")
    db.session.delete(dataset)
    db.session.flush()


def create_service(actor: Any, organisation: Organisation, data: dict[str, Any]) -> Service:
    """Add a service to the catalogue. Editors of ``organisation`` only."""
    if actor is not None:
        require_org_editor(actor, organisation.id)
    cleaned = _clean_common({**data, "area": data.get("area", "")})
    service = Service(organisation_id=organisation.id,
                      slug=_unique_slug(Service, slugify(cleaned["name"])), **cleaned)
    db.session.add(service)
    db.session.flush()
    audit.record("service.created", actor=actor, organisation=organisation, target=service,
                 summary=f"Added service {service.name}")
    return service


def update_service(actor: Any, service: Service, data: dict[str, Any]) -> Service:
    require_org_editor(actor, service.organisation_id)
    for key, value in _clean_common({**data, "area": data.get("area", "")}).items():
        setattr(service, key, value)
    db.session.flush()
    audit.record("service.updated", actor=actor, organisation=service.organisation,
                 target=service, summary=f"Edited service {service.name}")
    return service


def delete_service(actor: Any, service: Service) -> None:
    require_org_editor(actor, service.organisation_id)
    if _used_elsewhere(service):
        raise ValidationError(_("This service is named in published or draft updates, so it "
                                "cannot be deleted. Edit its description instead."))
    audit.record("service.deleted", actor=actor, organisation=service.organisation,
                 target=service, summary=f"Deleted service {service.name}")
    db.session.delete(service)
    db.session.flush()
