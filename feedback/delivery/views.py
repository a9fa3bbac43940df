"""The operator page (progress, pause, resume) and the GOV.UK Notify receipts callback."""

from __future__ import annotations

import hmac

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
from flask_login import current_user, login_required

from feedback.accounts.permissions import require_admin
from feedback.audit import services as audit
from feedback.core.envelope import ApiError, document, error_document
from feedback.core.forms import ConfirmForm
from feedback.delivery import services
from feedback.digests.models import Edition
from feedback.extensions import csrf, db

bp = Blueprint("delivery", __name__)


@bp.get("/admin/deliveries")
@login_required
def operator():
    require_admin(current_user)
    editions = services.active_editions()
    return render_template("delivery/operator.html", form=ConfirmForm(),
                           rows=[(edition, services.progress(edition.id))
                                 for edition in editions])


@bp.post("/admin/deliveries/<int:edition_id>/<any(pause, resume):action>")
@login_required
def steer(edition_id: int, action: str):
    require_admin(current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    edition = db.session.get(Edition, edition_id) or abort(404)
    (services.pause if action == "pause" else services.resume)(edition)
    audit.record(f"edition.{action}", actor=current_user, target=edition,
                 summary=f"Edition {edition.id} {action}d")
    db.session.commit()
    flash(_("Sending paused.") if action == "pause" else _("Sending resumed."), "success")
    return redirect(url_for("delivery.operator"))


@bp.post("/delivery/notify/receipts")
@csrf.exempt  # called by GOV.UK Notify, authenticated by its bearer token
def notify_receipt():
    expected = current_app.config["NOTIFY_CALLBACK_TOKEN"]
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return error_document(ApiError(401, "Send the callback token: Authorization: Bearer ..."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_document(ApiError(400, "The body must be a JSON object.", pointer=""))
    known = services.record_receipt(payload)
    db.session.commit()
    return document({"recorded": known})  # the API's envelope (feedback/core/envelope.py)
