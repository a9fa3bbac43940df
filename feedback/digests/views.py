"""The public archive of editions, their web versions and downloads, and the partner's
preview, test send and send, and the operator page that pauses and resumes sending."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from feedback.accounts.permissions import require_admin
from feedback.audit import services as audit
from feedback.core.forms import ConfirmForm
from feedback.core.languages import get_language
from feedback.core.mail import send_message
from feedback.core.security import email_rate_limit, relax_csp
from feedback.core.urls import external_url
from feedback.digests import sending, services
from feedback.digests.models import Edition
from feedback.digests.rendering import localised_items, personalise
from feedback.extensions import db, limiter
from feedback.subscriptions.models import Audience
from feedback.translation.display import localised_text

bp = Blueprint("digests", __name__)


def _version(edition: Edition, language: str):
    return edition.version(language) or abort(404)


def _public_links() -> dict[str, str]:
    subscribe = external_url("subscriptions.subscribe")
    return {"unsubscribe": subscribe, "manage": subscribe}


@bp.get("/digests/<int:audience_id>")
def archive(audience_id: int):
    audience = db.session.get(Audience, audience_id) or abort(404)
    return render_template("digests/archive.html", audience=audience,
                           editions=services.list_editions(audience.id, public_only=True))


@bp.get("/digests/editions/<int:edition_id>/<language>")
def web_version(edition_id: int, language: str):
    edition = services.public_edition(edition_id)
    version = _version(edition, language)
    chosen = get_language(language) or get_language("en")
    allow_machine = edition.audience.allow_machine_translation
    return render_template(
        "digests/web_version.html", edition=edition, version=version,
        items=localised_items(edition, chosen), language=chosen,
        intro=localised_text(edition.audience.intro, chosen, allow_machine),
        outro=localised_text(edition.audience.outro, chosen, allow_machine))


def _download(edition: Edition, language: str, kind: str) -> Response:
    version = _version(edition, language)
    html, text = personalise(version, "", _public_links())
    body, mimetype = (html, "text/html") if kind == "html" else (text, "text/plain")
    filename = f"edition-{edition.id}-{language}.{'html' if kind == 'html' else 'txt'}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/digests/editions/<int:edition_id>/<language>.<any(html, txt):kind>")
def download(edition_id: int, language: str, kind: str):
    """HTML or plain text, ready to paste into a partner's own mailing tool."""
    return _download(services.public_edition(edition_id), language, kind)


# Partner preview ----------------------------------------------------------------------

@bp.post("/partners/<slug>/newsletter/prepare")
@bp.post("/partners/<slug>/audiences/<int:audience_id>/newsletter/prepare")
@login_required
def prepare(slug: str, audience_id: int | None = None):
    from feedback.organisations import services as organisations
    from feedback.subscriptions import services as subscriptions
    from feedback.subscriptions import workspace

    organisation = organisations.get_organisation(slug)
    if audience_id is None:
        audience = subscriptions.partner_audience(organisation.id) or abort(404)
    else:
        try:
            audience = workspace.get_audience(organisation, audience_id)
        except workspace.NotFound:
            abort(404)
    edition = services.prepare_next(current_user, audience)
    db.session.commit()
    return redirect(url_for("digests.preview", edition_id=edition.id))


@bp.get("/newsletter/editions/<int:edition_id>")
@login_required
def preview(edition_id: int):
    edition = services.edition_for_editor(current_user, edition_id)
    from feedback.digests import sms as sms_digest
    from feedback.digests.rendering import describe_missing
    from feedback.digests.sending import progress
    from feedback.subscriptions.sms import sms_enabled

    sms_previews = {v.language: sms_digest.preview(edition, v.language)
                    for v in edition.versions} if sms_enabled() else {}
    return render_template("digests/preview.html", edition=edition, form=ConfirmForm(),
                           describe_missing=describe_missing, sms_previews=sms_previews,
                           progress=progress(edition.id),
                           languages={v.language: get_language(v.language)
                                      for v in edition.versions})


@bp.get("/newsletter/editions/<int:edition_id>/<language>/email.<any(html, txt):kind>")
@login_required
def preview_email(edition_id: int, language: str, kind: str):
    """The email exactly as rendered, for the preview frame (its CSS is inline)."""
    edition = services.edition_for_editor(current_user, edition_id)
    if kind == "txt":
        return _download(edition, language, "txt")
    version = _version(edition, language)
    html, _text = personalise(version, current_user.public_name, _public_links())
    relax_csp(style_src="'self' 'unsafe-inline'", frame_ancestors="'self'")
    return Response(html, mimetype="text/html")


@bp.get("/newsletter/editions/<int:edition_id>/<language>.<any(html, txt):kind>")
@login_required
def editor_download(edition_id: int, language: str, kind: str):
    return _download(services.edition_for_editor(current_user, edition_id), language, kind)


@bp.post("/newsletter/editions/<int:edition_id>/test")
@login_required
@limiter.limit(email_rate_limit)
def test_send(edition_id: int):
    """Send every language version to the signed-in partner's own address."""
    from feedback.delivery.channels import Outgoing
    from feedback.delivery.queues import https

    edition = services.edition_for_editor(current_user, edition_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    links = _public_links()
    for version in edition.versions:
        html, text = personalise(version, current_user.public_name, links)
        outgoing = Outgoing(
            delivery_id=0, to=current_user.email, subject=_("[Test] %(subject)s",
                                                            subject=version.subject),
            text=text, html=html, message_id=None, unsubscribe_url=https(links["unsubscribe"]),
            headers={"List-Unsubscribe": f"<{https(links['unsubscribe'])}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                     "Content-Language": version.language})
        send_message(outgoing.email_message())
    services.record_test_send(current_user, edition)
    db.session.commit()
    flash(_("Test sent to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("digests.preview", edition_id=edition.id))


@bp.post("/newsletter/editions/<int:edition_id>/send")
@login_required
def send(edition_id: int):
    edition = services.edition_for_editor(current_user, edition_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.send_now(current_user, edition)
    except services.EditionFrozen:
        flash(_("This edition has already been sent."), "error")
        return redirect(url_for("digests.preview", edition_id=edition.id))
    db.session.commit()
    flash(_("Sending has started."), "success")
    return redirect(url_for("digests.preview", edition_id=edition.id))


# Sending, for operators ---------------------------------------------------------------

@bp.get("/admin/deliveries")
@login_required
def operator():
    """The operator page: each edition's sending progress, to pause and resume."""
    require_admin(current_user)
    editions = sending.active_editions()
    return render_template("digests/operator.html", form=ConfirmForm(),
                           rows=[(edition, sending.progress(edition.id))
                                 for edition in editions])


@bp.post("/admin/deliveries/<int:edition_id>/<any(pause, resume):action>")
@login_required
def steer(edition_id: int, action: str):
    require_admin(current_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    edition = db.session.get(Edition, edition_id) or abort(404)
    (sending.pause if action == "pause" else sending.resume)(edition)
    audit.record(f"edition.{action}", actor=current_user, target=edition,
                 summary=f"Edition {edition.id} {action}d")
    db.session.commit()
    flash(_("Sending paused.") if action == "pause" else _("Sending resumed."), "success")
    return redirect(url_for("digests.operator"))
