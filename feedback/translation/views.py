"""The public languages page, the review queue, and translator roles."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from feedback.accounts.models import OrgRole, User
from feedback.accounts.permissions import PermissionDenied, require_org_admin
from feedback.core.forms import ConfirmForm, save_form, show_validation_error
from feedback.core.languages import (
    display_name,
    enabled_languages,
    get_language,
    target_languages,
)
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError
from feedback.extensions import db
from feedback.organisations import services as organisations
from feedback.organisations.models import Organisation, OrganisationKind
from feedback.translation import services
from feedback.translation.catalogs import catalog_coverage, catalog_statuses, recorded_leaks
from feedback.translation.forms import GrantForm, ReviewForm

bp = Blueprint("translation", __name__)


@bp.get("/languages")
def languages():
    """Every language, how its interface translation was checked, and how to help."""
    partners = db.session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.VCSE).order_by(Organisation.name)).all()
    administered = [m.organisation for m in getattr(current_user, "memberships", [])
                    if m.role == OrgRole.ADMIN]
    return render_template("translation/languages.html", languages=enabled_languages(),
                           statuses=catalog_statuses(), coverage=catalog_coverage(),
                           leaks=recorded_leaks().get("interface_leaks", 0),
                           partners=partners,
                           reviewable=services.reviewable_languages(current_user),
                           administered=administered)


@bp.get("/translation/review")
@login_required
def review_index():
    languages = services.reviewable_languages(current_user)
    if not languages:
        raise PermissionDenied(_l("Only translators can review translations."))
    usage = (services.provider_usage(utcnow().strftime("%Y-%m"))
             if current_user.is_admin else [])
    return render_template("translation/review_index.html", languages=languages,
                           counts=services.queue_counts(current_user), usage=usage)


def _reviewable(code: str):
    language = get_language(code)
    if language is None or language not in target_languages():
        abort(404)
    services.require_translator(current_user, language.code)
    return language


@bp.get("/translation/review/<code>")
@login_required
def review_queue(code: str):
    language = _reviewable(code)
    page = services.review_queue(language.code, request.args.get("page", 1, type=int),
                                 current_user)
    return render_template("translation/review.html", language=language, page=page,
                           forms={segment.id: ReviewForm(prefix=f"s{segment.id}",
                                                         text=segment.text or "")
                                  for segment in page.items},
                           differences={segment.id: services.segment_differences(segment)
                                        for segment in page.items})


@bp.post("/translation/review/<code>/<int:segment_id>")
@login_required
def review_segment(code: str, segment_id: int):
    language = _reviewable(code)
    try:
        segment = services.get_segment(segment_id, language.code)
    except LookupError:
        abort(404)
    services.require_reviewer(current_user, segment)
    form = ReviewForm(prefix=f"s{segment.id}")
    approve = request.form.get("action") == "approve"
    _done, response = save_form(
        form, lambda: services.review_segment(current_user, segment, form.text.data, approve),
        "translation/review_one.html", language=language, segment=segment,
        differences=services.segment_differences(segment))
    if response:
        return response
    flash(_("Translation approved.") if approve else _("Draft saved for review."))
    return redirect(url_for("translation.review_queue", code=language.code,
                            page=request.args.get("page", 1, type=int)))


def _grant_form(org: Organisation) -> GrantForm:
    form = GrantForm()
    people = [m.user for m in org.memberships
              if m.role in (OrgRole.EDITOR, OrgRole.ADMIN) and not m.user.is_deleted]
    form.user_id.choices = [(person.id, person.public_name) for person in people]
    form.languages.choices = [(lang.code, display_name(lang)) for lang in target_languages()]
    return form


@bp.route("/organisations/<slug>/translators", methods=["GET", "POST"])
@login_required
def translators(slug: str):
    org = organisations.get_organisation(slug)
    require_org_admin(current_user, org.id)
    form = _grant_form(org)

    def grant():
        user = db.session.get(User, form.user_id.data)
        if user is None:
            raise ValidationError(_("Choose someone from your organisation."), "user_id")
        return services.grant_translator(current_user, org, user, form.languages.data)

    _done, response = save_form(form, grant, "translation/translators.html",
                               organisation=org, grants=services.list_grants(org.id),
                               revoke_form=ConfirmForm())
    if response:
        return response
    flash(_("Translator roles saved."))
    return redirect(url_for("translation.translators", slug=org.slug))


@bp.post("/organisations/<slug>/translators/<int:grant_id>/revoke")
@login_required
def revoke(slug: str, grant_id: int):
    org = organisations.get_organisation(slug)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.revoke_translator(current_user, org, grant_id)
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Translator role removed."))
    return redirect(url_for("translation.translators", slug=org.slug))
