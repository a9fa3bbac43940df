"""Update pages: the public list, search, feeds and update pages; the editors' workflow
(draft, preview, publish, edit, withdraw); following; questions, answers and moderation."""

from __future__ import annotations

import io
from urllib.parse import quote, urlencode

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from feedback.accounts.permissions import can_edit_org, require_moderator, require_org_editor
from feedback.core.caching import cached_page, cached_value
from feedback.core.forms import ConfirmForm, save_form, show_validation_error
from feedback.core.languages import get_language, source_language
from feedback.core.markdown import render_markdown
from feedback.core.redirects import safe_next
from feedback.core.security import email_rate_limit, report_rate_limit
from feedback.core.urls import external_url
from feedback.core.validation import ValidationError
from feedback.extensions import csrf, db, limiter
from feedback.organisations import services as organisations
from feedback.priorities.services import priority_choices
from feedback.translation.display import content_choices, translated_field
from feedback.updates import cards, feeds, history, questions, services, tasks, topics
from feedback.updates.display import update_card
from feedback.updates.forms import (
    AnswerForm,
    FollowForm,
    QuestionForm,
    ReportForm,
    UpdateForm,
    WithdrawForm,
)
from feedback.updates.models import (
    KIND_LABELS,
    REPORT_REASON_LABELS,
    FollowTarget,
    ReportTarget,
    Update,
)
from feedback.updates.services import UpdateFilters
from feedback.updates.writing import reading_age

bp = Blueprint("updates", __name__)

NATIONAL_OPT_OUT_URL = "https://www.nhs.uk/your-nhs-data-matters/"


@bp.app_template_global()
def updates_for(**filters) -> services.UpdatePage:
    """The latest published updates matching ``filters`` (for organisation, dataset and
    service pages: "what has this led to?")."""
    return services.list_published_updates(UpdateFilters(**filters), per_page=10)


bp.add_app_template_global(update_card)


@bp.app_template_global()
def follow_state(target_type: str, target_id: int) -> bool:
    return services.is_following(current_user, FollowTarget(target_type), target_id)


@bp.app_template_global()
def opt_out_url() -> str:
    return NATIONAL_OPT_OUT_URL


def _filters() -> UpdateFilters:
    try:
        return UpdateFilters.from_args(request.args)
    except ValidationError as error:
        abort(400, description=error.message)


def _page(filters: UpdateFilters) -> services.UpdatePage:
    try:
        return services.list_published_updates(filters, cursor=request.args.get("cursor"))
    except ValidationError as error:
        abort(400, description=error.message)


# Reading ------------------------------------------------------------------------------

@bp.get("/updates")
@cached_page()
def list_updates():
    filters = _filters()
    page = _page(filters)
    return render_template(
        "updates/list.html", page=page, filters=filters, kinds=list(KIND_LABELS.items()),
        **cached_value("update-filter-menus", services.filter_menus))


@bp.get("/updates.atom")
@cached_page()
def feed():
    filters = _filters()
    language = None
    if request.args.get("lang"):
        language = get_language(request.args["lang"])
        if language is None:
            abort(400, description=_("Choose a language this site offers."))
        if language.code == source_language().code:
            language = None
    # The feed shows each update's organisation and topics: no datasets or services.
    return Response(feeds.atom_feed(services.feed_entries(filters, per_page=50), filters,
                                    language),
                    mimetype="application/atom+xml")


def _visible_update(slug: str) -> Update:
    update = services.get_update(slug)
    if not services.can_view_update(current_user, update):
        abort(404)
    return update


def share_links(update: Update, link: str) -> dict[str, str]:
    """WhatsApp and email links carrying the title and summary in the reader's
    language (approved or machine, as the page shows them)."""
    title = translated_field(update, "title").text
    summary = translated_field(update, "summary").text
    return {
        "whatsapp": "https://wa.me/?" + urlencode({"text": f"{title} {link}"},
                                                  quote_via=quote),
        "email": "mailto:?" + urlencode({"subject": title, "body": f"{summary}\n\n{link}"},
                                        quote_via=quote),
    }


def _update_page(item: Update, question_form: QuestionForm | None = None) -> str:
    link = external_url("updates.update", slug=item.slug)
    # Forms only for people signed in: making one puts a CSRF token in the session, and
    # the page could no longer be cached for everyone else.
    forms = ({"question_form": question_form or QuestionForm(), "answer_form": AnswerForm(),
              "report_form": ReportForm(), "confirm_form": ConfirmForm()}
             if current_user.is_authenticated else {})
    return render_template(
        "updates/update.html", update=item, link=link, share=share_links(item, link),
        questions=questions.public_questions(item.id),
        own_questions=questions.own_questions(current_user, item.id),
        history=history.revision_history(item) if item.revisions else [],
        can_edit=can_edit_org(current_user, item.organisation_id), **forms)


@bp.get("/updates/<slug>")
@cached_page()
def update(slug: str):
    return _update_page(_visible_update(slug))


@bp.get("/updates/<slug>/qr.svg")
def qr_code(slug: str):
    """A QR code back to the update, for printed copies on noticeboards."""
    item = _visible_update(slug)
    buffer = io.BytesIO()
    segno.make(external_url("updates.update", slug=item.slug), error="m").save(
        buffer, kind="svg", scale=4, border=2, xmldecl=False,
        title=_("Link to this update"))
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.cache_control.max_age = 3600
    return response


@bp.get("/updates/<slug>/card/<lang>.png")
def share_card(slug: str, lang: str):
    """The update's share card (its og:image) in one language: drawn once per title and
    language, then served from disk with an ETag."""
    item = _visible_update(slug)
    language = get_language(lang)
    if language is None:
        abort(404)
    path, key = cards.share_card(item, language)
    return send_file(path, mimetype="image/png", etag=key, max_age=3600, conditional=True)


# Editors ------------------------------------------------------------------------------

@bp.get("/organisations/<slug>/updates")
@login_required
def organisation_updates(slug: str):
    org = organisations.get_organisation(slug)
    require_org_editor(current_user, org.id)
    return render_template("updates/dashboard.html", organisation=org,
                           updates=services.list_organisation_updates(org.id))


def _update_form(**kwargs) -> UpdateForm:
    form = UpdateForm(**kwargs)
    # Names people wrote, each marked with the language it is shown in.
    form.datasets.choices = content_choices((str(d.id), f"{d.name} ({d.custodian_label})")
                                            for d in organisations.list_datasets())
    form.services.choices = content_choices((str(s.id), f"{s.name} ({s.organisation.name})")
                                            for s in organisations.list_services())
    none, *priorities = priority_choices(_("None"))
    form.answers_priority_id.choices = [none, *content_choices(
        (choice.value, choice.label) for choice in priorities)]
    listed = content_choices((term.name, term.name) for term in topics.approved_topics())
    chosen = set(form.topics.data or [])  # keep an editor's own suggestions ticked
    form.topics.choices = listed + content_choices(
        (name, name) for name in sorted(chosen)
        if name not in {choice.value for choice in listed})
    return form


def _preview(form: UpdateForm) -> dict:
    age = reading_age(form.summary.data)
    return {"summary": form.summary.data or "", "title": form.title.data or "",
            "body": render_markdown(form.body.data), "reading_age": age,
            "too_hard": age is not None and age > current_app.config["READING_AGE_WARNING"]}


def _editor_page(form: UpdateForm, organisation, item: Update | None):
    preview = None
    if request.method == "POST" and request.form.get("action") == "preview":
        if form.validate_on_submit():
            preview = _preview(form)
        return render_template("updates/form.html", form=form, organisation=organisation,
                               item=item, preview=preview), 200 if preview else 400
    return None


@bp.route("/organisations/<slug>/updates/new", methods=["GET", "POST"])
@login_required
def new_update(slug: str):
    org = organisations.get_organisation(slug)
    require_org_editor(current_user, org.id)
    form = _update_form()
    preview = _editor_page(form, org, None)
    if preview:
        return preview
    created, response = save_form(
        form, lambda: services.create_update(current_user, org, form.service_data()),
        "updates/form.html", organisation=org, item=None, preview=None)
    if response:
        return response
    flash(_("Draft saved. Check it, then publish it when it is ready."), "success")
    return redirect(url_for("updates.update", slug=created.slug))


@bp.route("/updates/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_update(slug: str):
    item = services.get_update(slug)
    require_org_editor(current_user, item.organisation_id)
    if item.is_withdrawn:
        flash(_("This update was withdrawn, so it cannot be changed. Reason given: "
                "%(reason)s", reason=item.withdrawal_reason), "error")
        return redirect(url_for("updates.update", slug=item.slug)), 303
    if request.method == "GET":
        data = services.current_data(item)
        form = _update_form(data={
            **data, "datasets": [str(i) for i in data["datasets"]],
            "services": [str(i) for i in data["services"]],
            "topics": data["topics"], "areas": ", ".join(data["areas"]),
            "community_tags": ", ".join(data["community_tags"]),
            "evidence_links": "\n".join(f"{link['title']} | {link['url']}"
                                        for link in data["evidence_links"]),
            "answers_priority_id": str(data["answers_priority_id"] or ""),
            "content_checked_on": (data["content_checked_on"] or "") and
            data["content_checked_on"].isoformat(),
            "next_check_due": (data["next_check_due"] or "") and
            data["next_check_due"].isoformat()})
    else:
        form = _update_form()
    preview = _editor_page(form, item.organisation, item)
    if preview:
        return preview
    _saved, response = save_form(
        form, lambda: services.update_update(current_user, item, form.service_data(),
                                             change_note=form.change_note.data),
        "updates/form.html", organisation=item.organisation, item=item, preview=None)
    if response:
        return response
    flash(_("Update saved."), "success")
    return redirect(url_for("updates.update", slug=item.slug))


def _state_change(slug: str, action, success: str):
    item = services.get_update(slug)
    require_org_editor(current_user, item.organisation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400, description=_("Your form expired. Go back and try again."))
    try:
        action(item)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return None, redirect(url_for("updates.update", slug=item.slug), 303)
    db.session.commit()
    flash(success, "success")
    return item, redirect(url_for("updates.update", slug=item.slug))


@bp.post("/updates/<slug>/publish")
@login_required
def publish(slug: str):
    _item, response = _state_change(slug, lambda u: services.publish_update(current_user, u),
                                    _("Update published."))
    return response


@bp.post("/updates/<slug>/delete")
@login_required
def delete(slug: str):
    item = services.get_update(slug)
    require_org_editor(current_user, item.organisation_id)
    org_slug = item.organisation.slug
    try:
        services.delete_draft(current_user, item)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("updates.update", slug=item.slug), 303)
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("updates.organisation_updates", slug=org_slug))


@bp.route("/updates/<slug>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(slug: str):
    item = services.get_update(slug)
    require_org_editor(current_user, item.organisation_id)
    form = WithdrawForm()
    _done, response = save_form(
        form, lambda: services.withdraw_update(current_user, item, form.reason.data),
        "updates/withdraw.html", update=item)
    if response:
        return response
    flash(_("Update withdrawn. The reason is shown on its page."), "success")
    return redirect(url_for("updates.update", slug=item.slug))


# Following ----------------------------------------------------------------------------

@bp.post("/follow")
@login_required
def follow():
    form = FollowForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if request.form.get("action") == "unfollow":
            services.unfollow(current_user, form.target_type.data, form.target_id.data)
            message = _("You no longer follow this.")
        else:
            services.follow(current_user, form.target_type.data, form.target_id.data)
            message = _("You are following this. We will email you when there is a new "
                        "update.")
    except ValidationError as error:
        abort(400, description=error.message)
    db.session.commit()
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"), url_for("updates.following")))


@bp.get("/following")
@login_required
def following():
    return render_template("updates/following.html", follows=services.list_follows(
        current_user), form=FollowForm())


@bp.route("/following/stop/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail providers POST here with no session or token
def stop_following(token: str):
    """The unsubscribe link of follower emails (List-Unsubscribe): GET asks, POST stops
    every follow at once, signed in or not."""
    user = services.user_from_stop_following_token(token)
    if user is None:
        abort(410)
    if request.method == "POST":
        services.stop_following_everything(user, "one-click" if request.form.get(
            "List-Unsubscribe") == "One-Click" else "/following/stop")
        db.session.commit()
        return render_template("updates/stopped_following.html")
    return render_template("updates/stop_following.html")


# Questions and answers ----------------------------------------------------------------

@bp.post("/updates/<slug>/questions")
@login_required
def ask(slug: str):
    item = _visible_update(slug)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            questions.ask_question(current_user, item, form.body.data)
        except ValidationError as error:
            db.session.rollback()
            show_validation_error(form, error)
        else:
            db.session.commit()
            flash(_("Thank you. Your question will appear once a moderator has checked "
                    "it."), "success")
            return redirect(url_for("updates.update", slug=item.slug, _anchor="questions"))
    return _update_page(item, form), 400


@bp.post("/questions/<int:question_id>/answer")
@login_required
@limiter.limit(email_rate_limit, methods=["POST"])
def answer(question_id: int):
    question = questions.get_question(question_id)
    require_org_editor(current_user, question.update.organisation_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(" ".join(form.body.errors) or _("Enter your answer."), "error")
        return redirect(url_for("updates.update", slug=question.update.slug,
                                _anchor=f"question-{question.id}"), 303)
    try:
        questions.answer_question(current_user, question, form.body.data)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("updates.update", slug=question.update.slug), 303)
    db.session.commit()
    tasks.notify_asker(question.id)
    flash(_("Answer published. We have emailed the person who asked."), "success")
    return redirect(url_for("updates.update", slug=question.update.slug,
                            _anchor=f"question-{question.id}"))


@bp.post("/<any(question, answer):target>/<int:target_id>/report")
@login_required
@limiter.limit(report_rate_limit)
def report(target: str, target_id: int):
    form = ReportForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose a reason for reporting it."))
    try:
        questions.report(current_user, target, target_id, form.reason.data)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Thank you for reporting this. A moderator will look at it."), "success")
    if target == ReportTarget.QUESTION:
        slug = questions.get_question(target_id).update.slug
    else:
        slug = questions.get_answer(target_id).question.update.slug
    return redirect(url_for("updates.update", slug=slug, _anchor="questions"), 303)


@bp.get("/moderation")
@login_required
def moderation():
    queue = questions.moderation_queue(current_user)
    suggestions = topics.suggested_topics() if current_user.is_moderator else []
    return render_template("updates/moderation.html", queue=queue, form=ConfirmForm(),
                           suggestions=suggestions, reasons=questions.report_reasons,
                           reason_label=lambda reason: REPORT_REASON_LABELS[reason])


@bp.post("/moderation/questions/<int:question_id>")
@login_required
def moderate_question(question_id: int):
    question = questions.get_question(question_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    approve = request.form.get("decision") == "approve"
    try:
        questions.moderate_question(current_user, question, approve)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("updates.moderation"), 303)
    db.session.commit()
    flash(_("Question published.") if approve else _("Question rejected."), "success")
    return redirect(url_for("updates.moderation"))


@bp.post("/moderation/topics/<int:term_id>")
@login_required
def moderate_topic(term_id: int):
    require_moderator(current_user)
    term = topics.get_suggestion(term_id)
    if term is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if request.form.get("decision") == "reject":
        topics.reject(current_user, term)
        db.session.commit()
        flash(_("Topic rejected and taken off its updates."), "success")
        return redirect(url_for("updates.moderation", _anchor="topics"))
    try:
        topic = topics.approve(current_user, term, request.form.get("name"))
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("updates.moderation", _anchor="topics"), 303)
    db.session.commit()
    flash(_("Topic approved: %(name)s", name=topic.name), "success")
    return redirect(url_for("updates.moderation", _anchor="topics"))


@bp.post("/moderation/answers/<int:answer_id>")
@login_required
def review_answer(answer_id: int):
    item = questions.get_answer(answer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    keep = request.form.get("decision") == "restore"
    questions.review_answer(current_user, item, keep)
    db.session.commit()
    flash(_("Answer restored.") if keep else _("Answer removed."), "success")
    return redirect(url_for("updates.moderation"))
