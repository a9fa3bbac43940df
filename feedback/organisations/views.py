"""Public organisation, dataset and service pages, and the forms members use to keep
their own catalogue up to date."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from feedback.accounts import services as accounts
from feedback.accounts.forms import InviteForm, MemberRoleForm
from feedback.accounts.models import Membership
from feedback.accounts.permissions import (
    can_admin_org,
    can_edit_org,
    require_org_admin,
    require_org_editor,
)
from feedback.core.forms import ConfirmForm, act_and_redirect, form_data, save_form
from feedback.core.security import email_rate_limit
from feedback.extensions import db, limiter
from feedback.organisations import services
from feedback.organisations.forms import DatasetForm, OrganisationForm, ServiceForm
from feedback.organisations.models import KIND_LABELS, OrganisationKind
from feedback.translation.display import content_choices

bp = Blueprint("organisations", __name__)


@bp.get("/organisations")
def organisations():
    kind = request.args.get("kind")
    try:
        chosen = OrganisationKind(kind) if kind else None
    except ValueError:
        abort(400, description=_("Unknown kind of organisation."))
    return render_template("organisations/list.html",
                           organisations=services.list_organisations(chosen), kind=chosen,
                           kinds=list(KIND_LABELS.items()))


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    org = services.get_organisation(slug)
    return render_template("organisations/detail.html", organisation=org,
                           datasets=services.list_datasets(org.id),
                           services=services.list_services(org.id),
                           can_edit=can_edit_org(current_user, org.id),
                           can_admin=can_admin_org(current_user, org.id))


@bp.route("/organisations/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(slug: str):
    org = services.get_organisation(slug)
    require_org_admin(current_user, org.id)
    form = OrganisationForm(obj=org, kind=org.kind.value)
    _result, response = save_form(
        form, lambda: services.update_organisation(current_user, org, form_data(form)),
        "organisations/edit.html", organisation=org)
    if response:
        return response
    flash(_("Organisation details saved."), "success")
    return redirect(url_for("organisations.organisation", slug=org.slug))


@bp.route("/organisations/<slug>/members", methods=["GET", "POST"])
@login_required
@limiter.limit(email_rate_limit, methods=["POST"])
def members(slug: str):
    org = services.get_organisation(slug)
    require_org_admin(current_user, org.id)
    form = InviteForm()
    _result, response = save_form(
        form, lambda: accounts.invite_member(current_user, org, form.email.data, form.role.data),
        "organisations/members.html", organisation=org, role_form=MemberRoleForm(),
        confirm_form=ConfirmForm())
    if response:
        return response
    flash(_("Invitation sent."), "success")
    return redirect(url_for("organisations.members", slug=org.slug))


def _membership(org_id: int, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != org_id:
        abort(404)
    return membership


@bp.post("/organisations/<slug>/members/<int:membership_id>/role")
@login_required
def change_role(slug: str, membership_id: int):
    org = services.get_organisation(slug)
    require_org_admin(current_user, org.id)
    membership = _membership(org.id, membership_id)
    form = MemberRoleForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose a role from the list."))
    return act_and_redirect(
        lambda: accounts.change_member_role(current_user, org, membership, form.role.data),
        _("Role changed."), url_for("organisations.members", slug=org.slug))


@bp.post("/organisations/<slug>/members/<int:membership_id>/remove")
@login_required
def remove_member(slug: str, membership_id: int):
    org = services.get_organisation(slug)
    require_org_admin(current_user, org.id)
    membership = _membership(org.id, membership_id)
    return act_and_redirect(lambda: accounts.remove_member(current_user, org, membership),
                            _("Member removed."),
                            url_for("organisations.members", slug=org.slug))


# The catalogue: datasets and services -------------------------------------------------

@bp.get("/datasets")
def datasets():
    return render_template("organisations/datasets.html", datasets=services.list_datasets())


@bp.get("/datasets/<slug>")
def dataset(slug: str):
    item = services.get_dataset(slug)
    return render_template("organisations/dataset.html", dataset=item,
                           can_edit=can_edit_org(current_user, item.organisation_id))


@bp.get("/services")
def service_list():
    return render_template("organisations/services.html", services=services.list_services())


@bp.get("/services/<slug>")
def service(slug: str):
    item = services.get_service(slug)
    return render_template("organisations/service.html", service=item,
                           can_edit=can_edit_org(current_user, item.organisation_id))


def _dataset_form(**kwargs) -> DatasetForm:
    form = DatasetForm(**kwargs)
    form.custodian_id.choices = [SelectChoice("", _("Choose an organisation")), *content_choices(
        (str(org.id), org.name) for org in services.list_organisations())]
    return form


@bp.route("/organisations/<slug>/datasets/new", methods=["GET", "POST"])
@login_required
def new_dataset(slug: str):
    org = services.get_organisation(slug)
    require_org_editor(current_user, org.id)
    form = _dataset_form()
    created, response = save_form(
        form, lambda: services.create_dataset(current_user, org, form_data(form)),
        "organisations/catalogue_form.html", organisation=org, what="dataset")
    if response:
        return response
    flash(_("Dataset added."), "success")
    return redirect(url_for("organisations.dataset", slug=created.slug))


@bp.route("/datasets/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_dataset(slug: str):
    item = services.get_dataset(slug)
    require_org_editor(current_user, item.organisation_id)
    form = _dataset_form(obj=item)
    if request.method == "GET":
        form.custodian_id.data = str(item.custodian_id or "")
    _result, response = save_form(
        form, lambda: services.update_dataset(current_user, item, form_data(form)),
        "organisations/catalogue_form.html", organisation=item.organisation, what="dataset",
        item=item)
    if response:
        return response
    flash(_("Dataset saved."), "success")
    return redirect(url_for("organisations.dataset", slug=item.slug))


@bp.post("/datasets/<slug>/delete")
@login_required
def delete_dataset(slug: str):
    item = services.get_dataset(slug)
    return act_and_redirect(lambda: services.delete_dataset(current_user, item),
                            _("Dataset deleted."),
                            url_for("organisations.organisation", slug=item.organisation.slug),
                            url_for("organisations.dataset", slug=item.slug))


@bp.route("/organisations/<slug>/services/new", methods=["GET", "POST"])
@login_required
def new_service(slug: str):
    org = services.get_organisation(slug)
    require_org_editor(current_user, org.id)
    form = ServiceForm()
    created, response = save_form(
        form, lambda: services.create_service(current_user, org, form_data(form)),
        "organisations/catalogue_form.html", organisation=org, what="service")
    if response:
        return response
    flash(_("Service added."), "success")
    return redirect(url_for("organisations.service", slug=created.slug))


@bp.route("/services/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_service(slug: str):
    item = services.get_service(slug)
    require_org_editor(current_user, item.organisation_id)
    form = ServiceForm(obj=item)
    _result, response = save_form(
        form, lambda: services.update_service(current_user, item, form_data(form)),
        "organisations/catalogue_form.html", organisation=item.organisation, what="service",
        item=item)
    if response:
        return response
    flash(_("Service saved."), "success")
    return redirect(url_for("organisations.service", slug=item.slug))


@bp.post("/services/<slug>/delete")
@login_required
def delete_service(slug: str):
    item = services.get_service(slug)
    return act_and_redirect(lambda: services.delete_service(current_user, item),
                            _("Service deleted."),
                            url_for("organisations.organisation", slug=item.organisation.slug),
                            url_for("organisations.service", slug=item.slug))
