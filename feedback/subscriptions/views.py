"""Subscribing (no account needed), signed-link preferences, one-click unsubscribe, and
the pages partner staff use to run their newsletter."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from feedback.accounts.permissions import require_org_editor
from feedback.core.forms import ConfirmForm, form_data, save_form, show_validation_error
from feedback.core.i18n import current_language
from feedback.core.security import email_rate_limit
from feedback.core.validation import ValidationError
from feedback.extensions import csrf, db, limiter
from feedback.organisations import services as organisations
from feedback.subscriptions import services
from feedback.subscriptions.forms import (
    ContactForm,
    ImportForm,
    NewsletterForm,
    PreferencesForm,
    SubscribeForm,
    language_choices,
)
from feedback.subscriptions.models import SubscriberStatus

bp = Blueprint("subscriptions", __name__)

# The subscriber who has just confirmed in this browser, for the "You are subscribed" page.
CONFIRMED_SESSION_KEY = "subscription_confirmed"


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(email_rate_limit, methods=["POST"])
def subscribe():
    form = SubscribeForm(language=current_language().code)
    form.fill_choices()
    _done, response = save_form(form, lambda: services.subscribe(form_data(form), "/subscribe"),
                               "subscriptions/subscribe.html",
                               sms_enabled=bool(current_app.config["NOTIFY_SMS_TEMPLATE_ID"]))
    if response:
        return response
    return redirect(url_for("subscriptions.check_email"))


@bp.get("/subscribe/check-email")
def check_email():
    return render_template("subscriptions/check_email.html")


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


# Partner newsletters -----------------------------------------------------------------

def _partner(slug: str):
    organisation = organisations.get_organisation(slug)
    require_org_editor(current_user, organisation.id)
    return organisation


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
    return render_template(
        "subscriptions/newsletter.html", organisation=organisation, audience=audience,
        form=form, contact_form=contact_form, import_form=import_form or ImportForm(),
        confirm_form=ConfirmForm(),
        counts=services.count_subscribers(audience.id) if audience else None,
        editions=digests.list_editions(audience.id) if audience else []), status


@bp.route("/partners/<slug>/newsletter", methods=["GET", "POST"])
@login_required
def newsletter(slug: str):
    organisation = _partner(slug)
    audience = services.partner_audience(organisation.id)
    if request.method == "GET":
        return _newsletter_page(organisation, audience)
    form = NewsletterForm()
    form.fill_choices()
    if form.validate_on_submit():
        try:
            services.save_partner_audience(current_user, organisation, form_data(form))
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
        else:
            db.session.commit()
            flash(_("Newsletter settings saved."), "success")
            return redirect(url_for("subscriptions.newsletter", slug=slug))
    return _newsletter_page(organisation, audience, form=form, status=400)


def _audience_or_404(organisation):
    return services.partner_audience(organisation.id) or abort(404)


@bp.post("/partners/<slug>/newsletter/contacts")
@login_required
@limiter.limit(email_rate_limit)
def add_contact(slug: str):
    organisation = _partner(slug)
    audience = _audience_or_404(organisation)
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
            return redirect(url_for("subscriptions.newsletter", slug=slug))
    return _newsletter_page(organisation, audience, contact_form=form, status=400)


@bp.post("/partners/<slug>/newsletter/import")
@login_required
def import_contacts(slug: str):
    organisation = _partner(slug)
    audience = _audience_or_404(organisation)
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
    audience = _audience_or_404(organisation)
    job = services.get_import(audience, import_id) or abort(404)
    return render_template("subscriptions/import.html", organisation=organisation, job=job)
