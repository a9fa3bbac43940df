"""Pages for platform admins (and moderators, for the audit log)."""

from __future__ import annotations

import email
import email.policy
import ipaddress
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from feedback.accounts import services as accounts
from feedback.accounts.models import PlatformRole, User
from feedback.accounts.permissions import require_admin, require_moderator
from feedback.audit import services as audit
from feedback.core.forms import ConfirmForm, form_data, save_form
from feedback.extensions import db
from feedback.organisations import services as organisations
from feedback.organisations.forms import OrganisationForm

bp = Blueprint("admin", __name__)

OUTBOX_LIST_LIMIT = 200


@bp.before_request
def signed_in():
    """Every admin page needs a signed-in person (each view checks the role), except the
    development mailbox seen from this machine, which is how people sign in to a local
    demo site. The mailbox does not exist in production."""
    if request.endpoint in MAILBOX_ENDPOINTS:
        if current_app.config["ENV"] == "production":
            abort(404)
        if dev_mailbox_open():
            return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


MAILBOX_ENDPOINTS = ("admin.outbox", "admin.outbox_message")


def dev_mailbox_open() -> bool:
    """Open without signing in: development, no SMTP server (so mail goes only to the
    folder), and a browser on this machine. It shows every sign-in link, so anyone else
    must be a platform admin."""
    config = current_app.config
    return config["ENV"] != "production" and not config["SMTP_HOST"] and _from_loopback()


def _from_loopback() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/")
def index():
    require_moderator(current_user)
    return render_template("admin/index.html")


@bp.get("/audit")
def audit_log():
    require_moderator(current_user)
    page = audit.list_events(request.args.get("page", 1, type=int))
    return render_template("admin/audit.html", page=page)


@bp.route("/organisations/new", methods=["GET", "POST"])
def new_organisation():
    require_admin(current_user)
    form = OrganisationForm()
    created, response = save_form(
        form, lambda: organisations.create_organisation(current_user, form_data(form)),
        "organisations/edit.html", organisation=None)
    if response:
        return response
    flash(_("Organisation added. Invite its first admin from its members page."), "success")
    return redirect(url_for("organisations.organisation", slug=created.slug))


@bp.post("/organisations/<slug>/verification")
def set_verification(slug: str):
    require_admin(current_user)
    org = organisations.get_organisation(slug)
    organisations.set_verified(current_user, org, request.form.get("verified") == "yes")
    db.session.commit()
    flash(_("Verification updated."), "success")
    return redirect(url_for("organisations.organisation", slug=org.slug))


@bp.get("/users")
def users():
    require_admin(current_user)
    staff = db.session.scalars(
        select(User).where(User.role != PlatformRole.MEMBER, User.deleted_at.is_(None))
        .order_by(User.display_name)).all()
    return render_template("admin/users.html", users=staff, roles=list(PlatformRole),
                           form=ConfirmForm())


@bp.post("/users/role")
def set_role():
    require_admin(current_user)
    email_address = request.form.get("email", "")
    user = accounts.get_user_by_email(email_address.strip().lower())
    try:
        role = PlatformRole(request.form.get("role", ""))
    except ValueError:
        abort(400, description=_("Choose a role from the list."))
    if user is None:
        flash(_("No account uses that email address. Ask the person to sign in once first."),
              "error")
        return redirect(url_for("admin.users")), 303
    accounts.set_platform_role(current_user, user, role)
    db.session.commit()
    flash(_("Role updated."), "success")
    return redirect(url_for("admin.users"))


def _outbox() -> Path:
    return Path(current_app.config["OUTBOX_DIR"])


@bp.get("/outbox")
def outbox():
    """Development mail written to the outbox folder, newest first."""
    if not dev_mailbox_open():
        require_admin(current_user)
    folder = _outbox()
    files = sorted(folder.glob("*.eml"), reverse=True)[:OUTBOX_LIST_LIMIT] if \
        folder.exists() else []
    messages = []
    for path in files:
        with path.open("rb") as handle:
            parsed = email.message_from_binary_file(handle, policy=email.policy.default)
        messages.append({"name": path.name, "to": parsed["To"], "subject": parsed["Subject"],
                         "date": parsed["Date"]})
    return render_template("admin/outbox.html", messages=messages,
                           smtp=bool(current_app.config["SMTP_HOST"]))


@bp.get("/outbox/<name>")
def outbox_message(name: str):
    if not dev_mailbox_open():
        require_admin(current_user)
    path = _outbox() / name
    if "/" in name or not name.endswith(".eml") or not path.is_file():
        abort(404)
    with path.open("rb") as handle:
        parsed = email.message_from_binary_file(handle, policy=email.policy.default)
    body = parsed.get_body(preferencelist=("plain",))
    return render_template("admin/outbox_message.html", message=parsed,
                           text=body.get_content() if body else "")
