"""Sign-in by emailed link, profile, account deletion and invitations."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from feedback.accounts import services
from feedback.accounts.forms import DeleteAccountForm, ProfileForm, SignInForm
from feedback.accounts.services import LinkProblem
from feedback.core.forms import ConfirmForm, show_validation_error
from feedback.core.i18n import SESSION_KEY as LANGUAGE_KEY
from feedback.core.languages import enabled_languages, language_options
from feedback.core.redirects import safe_next
from feedback.core.security import email_rate_limit
from feedback.core.validation import ValidationError
from feedback.extensions import db, limiter
from feedback.privacy import services as privacy

bp = Blueprint("accounts", __name__)


@bp.app_context_processor
def role_labels() -> dict:
    """Roles by their names in the reader's language, for every template."""
    from feedback.accounts.models import ORG_ROLE_LABELS, PLATFORM_ROLE_LABELS

    return {"org_role_labels": ORG_ROLE_LABELS, "platform_role_labels": PLATFORM_ROLE_LABELS}


LINK_PROBLEM_STATUS = {"used": 410, "expired": 410, "invalid": 404}


def link_problem_page(problem: LinkProblem, kind: str):
    return render_template("accounts/link_problem.html", reason=problem.reason,
                           kind=kind), LINK_PROBLEM_STATUS[problem.reason]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(email_rate_limit, methods=["POST"])
def sign_in():
    form = SignInForm(next=safe_next(request.args.get("next"), ""))
    if form.validate_on_submit():
        try:
            services.request_sign_in(form.email.data, form.next.data or None)
        except ValidationError as error:
            show_validation_error(form, error)
        else:
            db.session.commit()
            return redirect(url_for("accounts.check_email"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("accounts/sign_in.html", form=form), status


@bp.get("/sign-in/check-your-email")
def check_email():
    return render_template("accounts/check_email.html",
                           minutes=current_app.config["MAGIC_LINK_MINUTES"])


@bp.route("/sign-in/<token>", methods=["GET", "POST"])
def confirm_sign_in(token: str):
    """GET shows a button, so that mail scanners that open links do not use them up."""
    form = ConfirmForm()
    try:
        services.check_sign_in_token(token)
    except LinkProblem as problem:
        return link_problem_page(problem, "sign-in")
    if form.validate_on_submit():
        try:
            user, next_url = services.consume_sign_in_token(token)
        except LinkProblem as problem:
            db.session.rollback()
            return link_problem_page(problem, "sign-in")
        db.session.commit()
        login_user(user)
        flash(_("You are signed in."), "success")
        return redirect(safe_next(next_url, url_for("accounts.account")))
    return render_template("accounts/confirm_sign_in.html", form=form)


@bp.post("/sign-out")
def sign_out():
    # CSRFProtect has already checked the token.
    if current_user.is_authenticated:
        services.end_sessions(current_user)
        db.session.commit()
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("core.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ProfileForm(obj=current_user)
    form.language.choices = language_options(enabled_languages())
    if form.validate_on_submit():
        try:
            services.update_profile(current_user, form.display_name.data, form.language.data)
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
        else:
            db.session.commit()
            session[LANGUAGE_KEY] = current_user.language
            flash(_("Your details have been saved."), "success")
            return redirect(url_for("accounts.account"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("accounts/account.html", form=form), status


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        privacy.delete_account(current_user)
        db.session.commit()
        logout_user()
        flash(_("Your account has been deleted. What you wrote stays, shown as by a former "
                "member."), "success")
        return redirect(url_for("core.home"))
    status = 400 if form.errors else 200
    return render_template("accounts/delete.html", form=form), status


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    form = ConfirmForm()
    try:
        invitation = services.find_invitation(token)
    except LinkProblem as problem:
        return link_problem_page(problem, "invitation")
    if form.validate_on_submit():
        membership = services.accept_invitation(current_user, token)
        db.session.commit()
        flash(_("You have joined %(org)s.", org=membership.organisation.name), "success")
        return redirect(url_for("organisations.organisation",
                                slug=membership.organisation.slug))
    return render_template("accounts/accept_invitation.html", form=form,
                           invitation=invitation)
