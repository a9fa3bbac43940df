"""Subscribing (no account needed), signed-link preferences, one-click unsubscribe, and
the pages partner staff use to run their newsletter."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.validators import Optional

from feedback.accounts.permissions import require_org_editor
from feedback.core.forms import ConfirmForm, form_data, save_form, show_validation_error
from feedback.core.i18n import current_language
from feedback.core.security import email_rate_limit
from feedback.core.uktime import format_uk, to_uk
from feedback.core.validation import ValidationError
from feedback.delivery.callbacks import answer_notify_callback
from feedback.extensions import csrf, db, limiter
from feedback.organisations import services as organisations
from feedback.subscriptions import services, sms, workspace
from feedback.subscriptions.forms import (
    AudienceForm,
    ContactForm,
    ImportForm,
    MoveContactForm,
    NewsletterForm,
    PreferencesForm,
    SubscribeForm,
    as_choices,
    language_choices,
)
from feedback.subscriptions.models import (
    Channel,
    ShortLinkPurpose,
    Subscriber,
    SubscriberStatus,
)

bp = Blueprint("subscriptions", __name__)

# The subscriber who has just confirmed in this browser, for the "You are subscribed" page.
CONFIRMED_SESSION_KEY = "subscription_confirmed"


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(email_rate_limit, methods=["POST"])
def subscribe():
    form = SubscribeForm(language=current_language().code)
    form.fill_choices()
    sms_enabled = sms.sms_enabled()
    if sms_enabled:  # a mobile number alone will do; the service asks for one or the other
        form.email.validators = [Optional()]
        form.email.flags.required = False
    _done, response = save_form(form, lambda: services.subscribe(form_data(form), "/subscribe"),
                               "subscriptions/subscribe.html", sms_enabled=sms_enabled)
    if response:
        return response
    by_text = sms_enabled and not (form.email.data or "").strip()
    return redirect(url_for("subscriptions.check_email", by="text" if by_text else None))


@bp.get("/subscribe/check-email")
def check_email():
    return render_template("subscriptions/check_email.html",
                           by_text=request.args.get("by") == "text")


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """GET shows a button (mail scanners fetch links); the POST confirms."""
    form = ConfirmForm()
    try:
        subscriber = services.pending_by_token(token)
    except services.LinkProblem:
        return render_template("subscriptions/link_problem.html"), 410
    if form.validate_on_submit():
        services.confirm(token)
        db.session.commit()
        # Post/redirect/get: refreshing "You are subscribed" (or switching its language)
        # must not send the used link again and show a link problem.
        session[CONFIRMED_SESSION_KEY] = subscriber.id
        return redirect(url_for("subscriptions.confirmed"), 303)
    return render_template("subscriptions/confirm.html", form=form,
                           audience=subscriber.audience)


@bp.get("/subscribe/confirmed")
def confirmed():
    subscriber_id = session.get(CONFIRMED_SESSION_KEY)
    if not isinstance(subscriber_id, int):
        return redirect(url_for("subscriptions.subscribe"))
    return render_template("subscriptions/confirmed.html",
                           manage_url=services.links_for(subscriber_id)["manage"])


def _subscriber_or_410(token: str):
    try:
        return services.subscriber_from_token(token)
    except services.LinkProblem:
        abort(410)


@bp.route("/subscriptions/manage/<token>", methods=["GET", "POST"])
def manage(token: str):
    subscriber = _subscriber_or_410(token)
    if subscriber.is_erased:  # nothing left to manage; unsubscribing still answers
        abort(410)
    audience = subscriber.audience
    form = PreferencesForm(obj=subscriber, cadence=audience.cadence.value,
                           topics=audience.topics, areas=audience.areas,
                           organisation_ids=[str(i) for i in audience.organisation_ids])
    form.fill_choices()
    if not audience.is_platform:
        form.language.choices = language_choices(only=services.audience_languages(audience))
    _done, response = save_form(
        form, lambda: services.update_preferences(subscriber, form_data(form)),
        "subscriptions/manage.html", subscriber=subscriber, token=token)
    if response:
        return response
    flash(_("Your choices are saved."), "success")
    return redirect(url_for("subscriptions.manage", token=token))


@bp.route("/subscriptions/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail providers POST here with no session or token
def unsubscribe(token: str):
    subscriber = _subscriber_or_410(token)
    if request.method == "POST":
        services.unsubscribe(subscriber, "one-click" if request.form.get(
            "List-Unsubscribe") == "One-Click" else "/subscriptions/unsubscribe")
        db.session.commit()
        return render_template("subscriptions/unsubscribed.html", token=token)
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return render_template("subscriptions/unsubscribed.html", token=token)
    return render_template("subscriptions/unsubscribe.html", audience=subscriber.audience)


# Text messages: short links and replies ------------------------------------------------

@bp.route("/s/<code>", methods=["GET", "POST"])
@limiter.limit("30 per minute")  # codes are random; guessing them is slowed down too
def short_link(code: str):
    """A text message's short link: an edition's web version, a subscriber's unsubscribe
    page, or (a confirmation text) the confirmation page. GET only shows; POST acts."""
    link = sms.resolve(code)
    if link is not None and link.purpose == ShortLinkPurpose.EDITION:
        return redirect(url_for("digests.web_version", edition_id=link.edition_id,
                                language=link.language))
    form = ConfirmForm()
    if link is not None:  # unsubscribe
        subscriber = db.session.get(Subscriber, link.subscriber_id) or abort(410)
        if form.validate_on_submit():
            services.unsubscribe(subscriber, "/s", channel=Channel.SMS)
            db.session.commit()
        if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
            return render_template("subscriptions/unsubscribed.html", sms=True,
                                   token=services.signed_token(subscriber.id))
        return render_template("subscriptions/unsubscribe.html", sms=True, form=form,
                               audience=subscriber.audience)
    subscriber = sms.pending_by_code(code)
    if subscriber is None:
        return render_template("subscriptions/link_problem.html"), 410
    if form.validate_on_submit():
        services.confirm(code)
        db.session.commit()
        session[CONFIRMED_SESSION_KEY] = subscriber.id
        return redirect(url_for("subscriptions.confirmed"), 303)
    return render_template("subscriptions/confirm.html", form=form, sms=True,
                           audience=subscriber.audience)


@bp.post("/subscriptions/notify/inbound")
@csrf.exempt  # called by GOV.UK Notify, authenticated by its bearer token
@limiter.limit("120 per minute")
def notify_inbound():
    """GOV.UK Notify's received-text callback: a reply of STOP unsubscribes the number."""
    return answer_notify_callback(
        "NOTIFY_INBOUND_TOKEN", lambda payload: {"unsubscribed": sms.receive_text(payload)})


# Partner newsletters -----------------------------------------------------------------

def _partner(slug: str):
    organisation = organisations.get_organisation(slug)
    require_org_editor(current_user, organisation.id)
    return organisation


def _audience_for(organisation, audience_id: int | None):
    """The audience a page is about: the one named in the URL, else the partner's first
    (the original ``/partners/<slug>/newsletter`` pages)."""
    if audience_id is None:
        return services.partner_audience(organisation.id)
    try:
        return workspace.get_audience(organisation, audience_id)
    except workspace.NotFound:
        abort(404)


def _newsletter_url(endpoint: str, organisation, audience, **values) -> str:
    """The URL of a newsletter page for this audience (the original URL for the first)."""
    first = services.partner_audience(organisation.id)
    audience_id = audience.id if audience is not None and first is not None \
        and audience.id != first.id else None
    return url_for(endpoint, slug=organisation.slug, audience_id=audience_id, **values)


def _newsletter_page(organisation, audience, *, form=None, contact_form=None,
                     import_form=None, status=200):
    from feedback.digests import services as digests

    if form is None:
        form = NewsletterForm(obj=audience) if audience else NewsletterForm(
            name=_("News from %(name)s", name=organisation.name),
            sender_name=organisation.name, languages=["en"])
    if audience is not None and not form.is_submitted():
        form.organisation_ids.data = [str(i) for i in audience.organisation_ids]
        form.cadence.data = audience.cadence.value
        form.send_weekday.data = str(audience.send_weekday)
        form.send_hour.data = str(audience.send_hour)
    form.fill_choices()
    contact_form = contact_form or ContactForm()
    contact_form.language.choices = language_choices()
    next_send = format_uk(digests.next_due(audience)) if audience is not None else None
    return render_template(
        "subscriptions/newsletter.html", organisation=organisation, audience=audience,
        form=form, contact_form=contact_form, import_form=import_form or ImportForm(),
        confirm_form=ConfirmForm(), next_send=next_send, sms_enabled=sms.sms_enabled(),
        audiences=workspace.partner_audiences(organisation.id),
        newsletter_url=lambda endpoint, **values: _newsletter_url(
            endpoint, organisation, audience, **values),
        counts=services.count_subscribers(audience.id) if audience else None,
        editions=digests.list_editions(audience.id) if audience else []), status


@bp.route("/partners/<slug>/newsletter", methods=["GET", "POST"])
@bp.route("/partners/<slug>/audiences/<int:audience_id>/newsletter", methods=["GET", "POST"])
@login_required
def newsletter(slug: str, audience_id: int | None = None):
    organisation = _partner(slug)
    audience = _audience_for(organisation, audience_id)
    if request.method == "GET":
        return _newsletter_page(organisation, audience)
    form = NewsletterForm()
    form.fill_choices()
    if form.validate_on_submit():
        try:
            audience = services.save_partner_audience(current_user, organisation,
                                                      form_data(form), audience=audience)
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
        else:
            db.session.commit()
            flash(_("Newsletter settings saved."), "success")
            return redirect(_newsletter_url("subscriptions.newsletter", organisation,
                                            audience))
    return _newsletter_page(organisation, audience, form=form, status=400)


def _audience_or_404(organisation, audience_id: int | None = None):
    return _audience_for(organisation, audience_id) or abort(404)


@bp.post("/partners/<slug>/newsletter/contacts")
@bp.post("/partners/<slug>/audiences/<int:audience_id>/newsletter/contacts")
@login_required
@limiter.limit(email_rate_limit)
def add_contact(slug: str, audience_id: int | None = None):
    organisation = _partner(slug)
    audience = _audience_or_404(organisation, audience_id)
    form = ContactForm()
    form.language.choices = language_choices()
    if form.validate_on_submit():
        try:
            added = services.add_contact(current_user, audience, form_data(form))
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
        else:
            db.session.commit()
            flash(_("Contact added.") if added else _("That address is already on your list."),
                  "success")
            return redirect(_newsletter_url("subscriptions.newsletter", organisation,
                                            audience))
    return _newsletter_page(organisation, audience, contact_form=form, status=400)


@bp.post("/partners/<slug>/newsletter/import")
@bp.post("/partners/<slug>/audiences/<int:audience_id>/newsletter/import")
@login_required
def import_contacts(slug: str, audience_id: int | None = None):
    organisation = _partner(slug)
    audience = _audience_or_404(organisation, audience_id)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if upload is None or not getattr(upload, "filename", ""):
                raise ValidationError(_("Choose a CSV file to import."), "file")
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError(_("Save the file as CSV (UTF-8) and try again."),
                                      "file") from None
            job = services.start_import(current_user, audience, text,
                                        attested=form.attested.data, basis=form.basis.data)
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
        else:
            db.session.commit()
            return redirect(url_for("subscriptions.import_progress", slug=slug,
                                    import_id=job.id), 303)
    return _newsletter_page(organisation, audience, import_form=form, status=400)


@bp.get("/partners/<slug>/newsletter/imports/<int:import_id>")
@login_required
def import_progress(slug: str, import_id: int):
    """The import job's progress bar (progress.js refreshes it), then its report."""
    organisation = _partner(slug)
    job = services.get_import_for(organisation, import_id) or abort(404)
    return render_template("subscriptions/import.html", organisation=organisation, job=job,
                           audience=job.audience)


# The partner's workspace: audiences and contacts ------------------------------------

@bp.route("/partners/<slug>/audiences", methods=["GET", "POST"])
@login_required
def audiences(slug: str):
    organisation = _partner(slug)
    form = AudienceForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                audience = workspace.create_audience(current_user, organisation,
                                                     form.name.data)
            except ValidationError as error:
                db.session.rollback()
                show_validation_error(form, error)
            else:
                db.session.commit()
                flash(_("Audience “%(name)s” created.", name=audience.name), "success")
                return redirect(_newsletter_url("subscriptions.newsletter", organisation,
                                                audience))
        status = 400
    return render_template("subscriptions/audiences.html", organisation=organisation,
                           audiences=workspace.partner_audiences(organisation.id),
                           counts=workspace.audience_counts(organisation.id),
                           form=form), status


def _workspace_audience(slug: str, audience_id: int):
    organisation = _partner(slug)
    try:
        return organisation, workspace.get_audience(organisation, audience_id)
    except workspace.NotFound:
        abort(404)


@bp.get("/partners/<slug>/audiences/<int:audience_id>/contacts")
@login_required
def contacts(slug: str, audience_id: int):
    organisation, audience = _workspace_audience(slug, audience_id)
    filters = workspace.ContactFilters.from_args(request.args)
    page = workspace.list_contacts(current_user, audience, filters,
                                   request.args.get("page", 1, type=int))
    return render_template(
        "subscriptions/contacts.html", organisation=organisation, audience=audience,
        page=page, filters=filters, languages=language_choices(),
        statuses=workspace.STATUS_LABELS, channels=workspace.CHANNEL_LABELS,
        confirm_form=ConfirmForm(),
        newsletter_url=_newsletter_url("subscriptions.newsletter", organisation, audience))


@bp.post("/partners/<slug>/audiences/<int:audience_id>/contacts/export")
@login_required
def export_contacts(slug: str, audience_id: int):
    _organisation, audience = _workspace_audience(slug, audience_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    text = workspace.export_contacts(current_user, audience,
                                     workspace.ContactFilters.from_args(request.form))
    db.session.commit()
    # The file name names the audience by id only: no personal data in a URL or header.
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="contacts-{audience.id}.csv"',
        "Cache-Control": "no-store"})


def _workspace_contact(slug: str, audience_id: int, contact_id: int):
    organisation, audience = _workspace_audience(slug, audience_id)
    try:
        return organisation, audience, workspace.get_contact(current_user, audience,
                                                             contact_id)
    except workspace.NotFound:
        abort(404)


def _contact_page(organisation, audience, contact, *, move_form=None, status=200):
    others = [a for a in workspace.partner_audiences(organisation.id) if a.id != audience.id]
    if move_form is None:
        move_form = MoveContactForm()
    move_form.audience_id.choices = as_choices((str(a.id), a.name) for a in others)
    return render_template(
        "subscriptions/contact.html", organisation=organisation, audience=audience,
        contact=contact, history=workspace.consent_history(current_user, contact),
        actions=workspace.CONSENT_ACTION_LABELS, statuses=workspace.STATUS_LABELS,
        channels=workspace.CHANNEL_LABELS, source_label=workspace.source_label,
        to_uk=to_uk, confirm_form=ConfirmForm(), move_form=move_form,
        has_others=bool(others)), status


@bp.get("/partners/<slug>/audiences/<int:audience_id>/contacts/<int:contact_id>")
@login_required
def contact(slug: str, audience_id: int, contact_id: int):
    return _contact_page(*_workspace_contact(slug, audience_id, contact_id))


@bp.post("/partners/<slug>/audiences/<int:audience_id>/contacts/<int:contact_id>/remove")
@login_required
def remove_contact(slug: str, audience_id: int, contact_id: int):
    _organisation, audience, contact = _workspace_contact(slug, audience_id, contact_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    workspace.remove_contact(current_user, contact)
    db.session.commit()
    flash(_("Contact removed. They will get nothing more from this audience."), "success")
    return redirect(url_for("subscriptions.contacts", slug=slug, audience_id=audience.id), 303)


@bp.post("/partners/<slug>/audiences/<int:audience_id>/contacts/<int:contact_id>/move")
@login_required
def move_contact(slug: str, audience_id: int, contact_id: int):
    organisation, audience, contact = _workspace_contact(slug, audience_id, contact_id)
    form = MoveContactForm()
    form.audience_id.choices = []
    target_id = form.audience_id.data or ""
    if form.validate_on_submit():
        try:
            if not target_id.isdigit():
                raise workspace.NotFound
            target = workspace.get_audience(organisation, int(target_id))
            workspace.move_contact(current_user, contact, target)
        except workspace.NotFound:
            db.session.rollback()
            form.audience_id.errors = [_("Choose one of your audiences.")]
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
        else:
            db.session.commit()
            flash(_("Contact moved to “%(name)s”.", name=target.name), "success")
            return redirect(url_for("subscriptions.contact", slug=slug, audience_id=target.id,
                                    contact_id=contact.id), 303)
    return _contact_page(organisation, audience, contact, move_form=form, status=400)
