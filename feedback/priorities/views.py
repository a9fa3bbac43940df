"""Pages for research priority rounds: public pages, voting, and the organisers' tools."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
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
from flask_wtf.csrf import generate_csrf

from feedback.accounts.permissions import PermissionDenied, can_edit_org
from feedback.core.caching import cached_page
from feedback.core.database import without_transaction
from feedback.core.forms import ConfirmForm, act_and_redirect, form_data, save_form
from feedback.core.i18n import current_language
from feedback.core.ids import parse_id
from feedback.core.urls import external_url
from feedback.core.validation import ValidationError
from feedback.extensions import db, limiter
from feedback.organisations import services as organisations
from feedback.priorities import forms, services
from feedback.priorities import results as tallies
from feedback.priorities.ballot_page import shared_page
from feedback.priorities.models import (
    GROUP_LABELS,
    PHASE_LABELS,
    InvitationRole,
    PaperBallot,
    Phase,
    Priority,
    PriorityRound,
    RoundInvitation,
    Suggestion,
    SuggestionStatus,
    VotingMethod,
)
from feedback.translation.display import (
    content_choices,
    inline_html,
    prefetch_texts,
    prefetch_translations,
    translated_field,
    translated_text,
)

bp = Blueprint("priorities", __name__, url_prefix="/priorities")

DESCRIBE_SESSION_KEY = "priority_ballot_to_describe"


def code_rate_limit() -> str:
    return current_app.config["BALLOT_CODE_RATE_LIMIT"]


def _organiser_round(slug: str) -> PriorityRound:
    round_ = services.get_round(slug)
    services.require_organiser(current_user, round_)
    return round_


def _visible_round(slug: str) -> PriorityRound:
    round_ = services.get_round(slug)
    if round_.phase == Phase.DRAFT and not services.can_organise(current_user, round_):
        abort(404)
    return round_


def _shortlist_titles(shortlist: Any) -> list[tuple[str, str]]:
    """Each entry's (priority id, title) as plain values, which a rollback cannot expire."""
    return [(str(entry.priority_id), entry.title)
            for entry in (shortlist.entries if shortlist else [])]


def _titles_in_language(titles: list[tuple[str, str]], markup: bool) -> list[tuple[str, Any]]:
    prefetch_texts(title for _id, title in titles)
    choices = []
    for value, title in titles:
        shown = translated_text(title)
        choices.append((value, inline_html(shown) if markup else shown.text))
    return choices


def _voting_round(slug: str) -> tuple[PriorityRound, Any]:
    """A round for its ballot pages (which never show its organisations), with its
    current shortlist, in one query."""
    round_, shortlist = services.ballot_round(slug)
    if round_.phase == Phase.DRAFT and not services.can_organise(current_user, round_):
        abort(404)
    return round_, shortlist


def _ballot_form(round_: PriorityRound, base: type, shortlist: Any = False) -> Any:
    """The ballot form. Its choices' labels are translated only if the form is shown: a
    ballot that is taken never needs them."""
    rank = round_.voting_method == VotingMethod.RANK
    if shortlist is False:
        shortlist = services.current_shortlist(round_, with_priorities=False)
    titles = _shortlist_titles(shortlist)
    shown: list[list[tuple[str, Any]]] = []

    def choices() -> list[tuple[str, Any]]:
        if not shown:
            shown.append(_titles_in_language(titles, markup=not rank))
        return shown[0]

    if rank:
        form = forms.add_rank_fields(base, round_.max_choices)()
        for n in range(1, round_.max_choices + 1):
            getattr(form, f"rank_{n}").choices = lambda: forms.choice_list(
                [("", _("No choice")), *choices()])
    else:
        form = base()
    form.choices.choices = lambda: forms.choice_list(choices())
    return form


def _chosen(round_: PriorityRound, form: Any) -> list[Any]:
    """The choices in order of preference."""
    if round_.voting_method == VotingMethod.RANK:
        return [getattr(form, f"rank_{n}").data for n in range(1, round_.max_choices + 1)]
    return list(form.choices.data or [])


# Public pages ----------------------------------------------------------------------------

@bp.get("")
def rounds():
    return render_template("priorities/rounds.html",
                           rounds=services.list_rounds(current_user),
                           invitations=len(services.pending_invitations(current_user)),
                           can_start=current_user.is_authenticated and any(
                               can_edit_org(current_user, m.organisation_id)
                               for m in current_user.memberships))


@bp.get("/rounds/<slug>")
def round_page(slug: str):
    round_ = _visible_round(slug)
    return render_template(
        "priorities/round.html", round=round_,
        suggestions=services.public_suggestions(round_),
        shortlist=services.current_shortlist(round_),
        versions=services.shortlist_versions(round_),
        can_organise=services.can_organise(current_user, round_),
        can_enter_papers=services.can_enter_papers(current_user, round_),
        helpers=services.helper_organisations(round_),
        help_form=_help_form(round_), phases=list(PHASE_LABELS.items()))


def _help_form(round_: PriorityRound) -> Any:
    """The "offer to help with paper ballots" form, if the person is staff of an
    organisation that could offer (else None)."""
    offering = services.help_organisations(current_user, round_)
    if not offering:
        return None
    form = forms.HelpForm()
    form.organisation.choices = content_choices((str(o.id), o.name) for o in offering)
    return form


@bp.post("/rounds/<slug>/help")
@login_required
def ask_to_help(slug: str):
    """Staff of an organisation not running the round offer to help with paper ballots."""
    round_ = _visible_round(slug)
    # Not help_organisations: a colleague's offer that was saved a moment ago must not turn
    # this one into a refusal (the service returns the offer already made).
    offering = services.help_candidates(current_user, round_)
    if not offering:
        raise PermissionDenied(_("Only staff of an organisation that does not run this "
                                 "round can offer to help with it, while it is open."))
    form = forms.HelpForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = parse_id(form.organisation.data)
    organisation = next((o for o in offering if o.id == chosen), None) if chosen \
        else offering[0]
    if organisation is None:
        raise PermissionDenied(_("You cannot offer help for that organisation."))
    return act_and_redirect(
        lambda: services.ask_to_help(current_user, round_, organisation, form.note.data),
        _("Thank you. The round's organisers will accept or decline your offer."),
        url_for("priorities.round_page", slug=round_.slug) + "#section-help")


@bp.get("/rounds/<slug>/shortlist/<int:number>")
def shortlist_version(slug: str, number: int):
    round_ = _visible_round(slug)
    version = services.get_shortlist_version(round_, number)
    latest = services.current_shortlist(round_)
    return render_template("priorities/shortlist.html", round=round_, version=version,
                           is_latest=latest is not None and latest.id == version.id)


@bp.route("/rounds/<slug>/suggest", methods=["GET", "POST"])
@login_required
def suggest(slug: str):
    round_ = _visible_round(slug)
    form = forms.SuggestionForm()
    _created, response = save_form(form, lambda: services.suggest(current_user, round_,
                                                                  form_data(form)),
                                  "priorities/suggest.html", round=round_)
    if response:
        return response
    flash(_("Thank you. Your question will appear once it has been checked."), "success")
    return redirect(url_for("priorities.round_page", slug=round_.slug))


@bp.post("/suggestions/<int:suggestion_id>/follow")
@login_required
def follow_suggestion(suggestion_id: int):
    suggestion = db.session.get(Suggestion, suggestion_id) or abort(404)
    _visible_round(suggestion.round.slug)  # a draft round's questions do not exist to others
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.follow_suggestion(current_user, suggestion)
    db.session.commit()
    flash(_("You are following this question."), "success")
    return redirect(url_for("priorities.round_page", slug=suggestion.round.slug))


@bp.get("/<int:priority_id>")
def priority(priority_id: int):
    item = services.get_priority(priority_id)
    round_ = item.round
    if round_.phase == Phase.DRAFT and not services.can_organise(current_user, round_):
        abort(404)
    results = tallies.compute_results(round_) if round_.results_visible else None
    tally = next((t for t in results.tallies if t.priority_id == item.id), None) \
        if results else None
    return render_template("priorities/priority.html", priority=item, round=round_,
                           versions=services.shortlisted_in(item), tally=tally,
                           results=results,
                           following=services.is_following(current_user, item),
                           updates=services.updates_that_followed(item),
                           can_organise=services.can_organise(current_user, round_),
                           can_respond=services.can_organise(current_user, round_) and bool(
                               services.shortlisted_in(item)) and round_.phase_at_least(
                               Phase.RESULTS))


@bp.post("/<int:priority_id>/follow")
@login_required
def follow_priority(priority_id: int):
    item = services.get_priority(priority_id)
    _visible_round(item.round.slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if request.form.get("stop"):
        services.unfollow_priority(current_user, item)
        message = _("You will no longer get emails about this priority.")
    else:
        services.follow_priority(current_user, item)
        message = _("We will email you when there is news about this priority.")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("priorities.priority", priority_id=item.id))


# Voting ----------------------------------------------------------------------------------

def _ballot_done(round_key: tuple[int, str], ballot_id: int, message: str):
    """After the commit: ``round_key`` is the round's (id, slug), read before it, so
    nothing is loaded again."""
    session[DESCRIBE_SESSION_KEY] = [round_key[0], ballot_id]
    flash(message, "success")
    return redirect(url_for("priorities.describe", slug=round_key[1]))


def _ids(values: list[Any] | None) -> list[int]:
    """Ids chosen in a form; one that is not an id becomes 0, which matches nothing, so
    the service says what is wrong."""
    return [parse_id(value) or 0 for value in values or [] if str(value).strip()]


def _follow_choices(user: Any, chosen: list[Any]) -> None:
    for priority_id in filter(None, map(parse_id, chosen)):
        item = db.session.get(Priority, priority_id)
        if item is not None:
            services.follow_priority(user, item)


@bp.route("/rounds/<slug>/vote", methods=["GET", "POST"])
@login_required
def vote(slug: str):
    round_, shortlist = _voting_round(slug)  # the shortlist, once
    form = _ballot_form(round_, forms.ChooseBallotForm, shortlist)
    round_key = (round_.id, round_.slug)
    # Translated before the commit, which would make the signed-in person load again.
    changed, recorded = (_("Your ballot has been changed."),
                         _("Thank you. Your ballot has been recorded."))

    def cast():
        ballot, replaced = services.cast_online_ballot(current_user, round_,
                                                       _chosen(round_, form), shortlist)
        if form.follow.data:
            _follow_choices(current_user, _chosen(round_, form))
        return ballot.id, replaced

    done, response = save_form(form, cast, "priorities/vote.html", round=round_,
                               method="online")
    if response:
        return response
    ballot_id, replaced = done
    return _ballot_done(round_key, ballot_id, changed if replaced else recorded)


@bp.route("/rounds/<slug>/vote/code", methods=["GET", "POST"])
@limiter.limit(code_rate_limit, methods=["POST"])
def vote_with_code(slug: str):
    if request.method == "GET" or services.code_ballot_is_one_statement(current_user):
        without_transaction()  # the busiest request of a round: two round trips fewer
    round_, shortlist = _voting_round(slug)  # the shortlist, once
    if request.method == "GET":
        return _code_ballot_page(round_, shortlist)
    # Out of the session: the rollback after a refused code would expire the round, and
    # its error page load it again. Everything the page reads was loaded with it.
    db.session.expunge(round_)
    form = _ballot_form(round_, forms.CodeBallotForm, shortlist)
    round_key = (round_.id, round_.slug)
    changed, recorded = (_("Your ballot has been changed."),
                         _("Thank you. Your ballot has been recorded. Your code has now been "
                           "used."))

    def cast():
        ballot, replaced = services.cast_code_ballot(
            round_, form.code.data, _chosen(round_, form), user=current_user,
            shortlist=shortlist)
        return ballot.id, replaced

    done, response = save_form(form, cast, "priorities/vote.html", round=round_,
                               method="code")
    if response:
        return response
    ballot_id, replaced = done
    return _ballot_done(round_key, ballot_id, changed if replaced else recorded)


def _code_ballot_page(round_: PriorityRound, shortlist: Any) -> str:
    """The code ballot form, unfilled. For a visitor who is not signed in it is rendered
    once per worker for each key (see ``ballot_page``): everything the page shows. The
    form itself is made only to render it; a stored page needs only the visitor's CSRF
    token (the one the form's hidden field would carry)."""
    titles = _shortlist_titles(shortlist)
    # One lookup for the round's words and the choices' titles in the reader's language.
    prefetch_translations([round_], texts=[title for _id, title in titles])
    key = ("code", current_language().code, request.full_path, round_.id, round_.slug,
           round_.voting_method, round_.max_choices, translated_field(round_, "title"),
           translated_field(round_, "scope"),
           tuple((value, translated_text(title)) for value, title in titles))
    token = generate_csrf() if current_app.config.get("WTF_CSRF_ENABLED", True) else None
    return shared_page(key, token, lambda: render_template(
        "priorities/vote.html", form=_ballot_form(round_, forms.CodeBallotForm, shortlist),
        round=round_, method="code"))


@bp.route("/rounds/<slug>/about-you", methods=["GET", "POST"])
def describe(slug: str):
    round_ = _visible_round(slug)
    remembered = session.get(DESCRIBE_SESSION_KEY)
    if not remembered or remembered[0] != round_.id:
        flash(_("These questions are asked just after you vote."), "info")
        return redirect(url_for("priorities.round_page", slug=round_.slug))
    form = forms.DescriptionForm()
    saved, response = save_form(form, lambda: services.save_description(remembered[1],
                                                                        form_data(form)),
                                "priorities/describe.html", round=round_)
    if response:
        return response
    session.pop(DESCRIBE_SESSION_KEY, None)
    flash(_("Thank you. Your answers are only ever counted with other people's.")
          if saved else _("Thank you for voting."), "success")
    return redirect(url_for("priorities.round_page", slug=round_.slug))


# Results ---------------------------------------------------------------------------------

def _results_cache_seconds(**_view_args: Any) -> int:
    return current_app.config["RESULTS_CACHE_SECONDS"]


@bp.get("/rounds/<slug>/results")
@cached_page(_results_cache_seconds, writes=True)  # a closed round's counts, once
def results(slug: str):
    round_ = _visible_round(slug)
    if not round_.results_visible:
        return render_template("priorities/results_hidden.html", round=round_)
    outcome = tallies.compute_results(round_)
    # The chart's names in the reader's language, each marked with the language it is in.
    prefetch_texts(tally.title for tally in outcome.tallies)
    page = render_template("priorities/results.html", round=round_, results=outcome,
                           chart=tallies.chart_rows(outcome, translated_text),
                           breakdown_charts={b.key: tallies.breakdown_chart_rows(b)
                                             for b in outcome.breakdowns})
    db.session.commit()  # a closed round's counts, stored the first time
    return page


@bp.get("/rounds/<slug>/results.csv")
def results_csv(slug: str):
    round_ = _visible_round(slug)
    if not round_.results_visible:
        abort(404)
    outcome = tallies.compute_results(round_)
    db.session.commit()  # a closed round's counts, stored the first time
    return Response(tallies.csv_lines(outcome), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{round_.slug}-results.csv"'})


# Organisers ------------------------------------------------------------------------------

def _round_form(**kwargs) -> forms.RoundForm:
    form = forms.RoundForm(**kwargs)
    mine = [m.organisation for m in current_user.memberships
            if can_edit_org(current_user, m.organisation_id)]
    # Organisations' names in the reader's language, each marked with its own.
    form.organisation.choices = content_choices((str(o.id), o.name) for o in mine)
    form.partners.choices = content_choices((str(o.id), o.name)
                                            for o in organisations.list_organisations())
    return form


def _round_data(form: forms.RoundForm) -> dict[str, Any]:
    data = form_data(form)
    data["groups"] = form.groups.data or []
    return data


@bp.route("/rounds/new", methods=["GET", "POST"])
@login_required
def new_round():
    form = _round_form()
    if request.method == "GET":
        form.groups.data = [g.value for g in GROUP_LABELS]
    if not form.organisation.choices:
        abort(403, description=_("Only editors of an organisation can start a round."))

    def create():
        from feedback.organisations.models import Organisation

        ids = [form.organisation.data, *(form.partners.data or [])]
        orgs = [db.session.get(Organisation, int(i)) for i in ids if str(i).isdigit()]
        return services.create_round(current_user, [o for o in orgs if o], _round_data(form))

    created, response = save_form(form, create, "priorities/round_form.html", round=None)
    if response:
        return response
    flash(_("Round started as a draft. Open it for suggestions when you are ready."),
          "success")
    if services.round_invitations(created):
        flash(_("The other organisations are invited. Each is named on the round only once "
                "one of its admins accepts."), "info")
    return redirect(url_for("priorities.manage", slug=created.slug))


@bp.get("/invitations")
@login_required
def invitations():
    """Rounds other organisations asked one of the person's organisations to run."""
    return render_template("priorities/invitations.html",
                           invitations=services.pending_invitations(current_user))


@bp.post("/invitations/<int:invitation_id>/<any(accept, decline):decision>")
@login_required
def answer_invitation(invitation_id: int, decision: str):
    invitation = db.session.get(RoundInvitation, invitation_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accept = decision == "accept"
    if invitation.role == InvitationRole.PAPER_HELPER:  # answered by the round's organisers
        back = url_for("priorities.manage", slug=invitation.round.slug) + "#section-helpers"
        return act_and_redirect(
            lambda: services.decide_help(current_user, invitation, accept=accept),
            _("%(organisation)s can now enter paper ballots for this round.",
              organisation=invitation.organisation.name) if accept
            else _("Offer declined."), back)
    return act_and_redirect(
        lambda: services.decide_invitation(current_user, invitation, accept=accept),
        _("You now run this round with its other organisers.") if accept
        else _("Invitation declined. Your organisation is not named on the round."),
        url_for("priorities.manage", slug=invitation.round.slug) if accept
        else url_for("priorities.invitations"), url_for("priorities.invitations"))


@bp.route("/rounds/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_round(slug: str):
    round_ = _organiser_round(slug)
    form = _round_form(obj=round_)
    if request.method == "GET":
        form.groups.data = list(round_.groups or [])
        form.voting_method.data = round_.voting_method.value
    _saved, response = save_form(form, lambda: services.update_round(current_user, round_,
                                                                     _round_data(form)),
                                "priorities/round_form.html", round=round_)
    if response:
        return response
    flash(_("Round saved."), "success")
    return redirect(url_for("priorities.manage", slug=round_.slug))


@bp.get("/rounds/<slug>/manage")
@login_required
def manage(slug: str):
    round_ = _organiser_round(slug)
    suggestions = services.all_suggestions(round_)
    merge_form = forms.MergeForm()
    merge_form.into.choices = [(str(s.id), s.question) for s in suggestions
                               if s.status != SuggestionStatus.MERGED]  # read by the template
    shortlist = services.current_shortlist(round_)
    priorities = services.list_priorities(round_)
    shortlist_form = forms.ShortlistForm()
    shortlist_form.priorities.choices = content_choices((str(p.id), p.title) for p in priorities)
    shortlist_form.priorities.data = ([str(e.priority_id) for e in shortlist.entries]
                                      if shortlist else [str(p.id) for p in priorities])
    priority_form = forms.PriorityForm()
    priority_form.suggestions.choices = content_choices(
        (str(s.id), s.question) for s in suggestions if s.status == SuggestionStatus.PUBLISHED)
    return render_template(
        "priorities/manage.html", round=round_, suggestions=suggestions,
        phase_form=forms.PhaseForm(phase=round_.phase.value), moderate_form=forms.ModerateForm(),
        merge_form=merge_form, priority_form=priority_form, shortlist_form=shortlist_form,
        priorities=priorities, shortlist=shortlist, code_form=forms.CodeBatchForm(),
        batches=services.code_batches(round_), papers=services.paper_ballots(round_),
        confirm_form=ConfirmForm(), on_behalf_form=forms.OnBehalfForm(),
        invitations=services.round_invitations(round_),
        help_requests=services.help_requests(round_))


def _back_to_manage(round_: PriorityRound, anchor: str = ""):
    return redirect(url_for("priorities.manage", slug=round_.slug) + anchor, code=303)


def _run(round_: PriorityRound, action, success: str, anchor: str = ""):
    """For the small forms on the manage page: run, commit, and come back with a message."""
    return act_and_redirect(action, success,
                            url_for("priorities.manage", slug=round_.slug) + anchor)


@bp.post("/rounds/<slug>/phase")
@login_required
def change_phase(slug: str):
    round_ = _organiser_round(slug)
    form = forms.PhaseForm()
    if not form.validate_on_submit():
        abort(400)
    return _run(round_, lambda: services.set_phase(current_user, round_, form.phase.data),
                _("The round has moved on."))


@bp.route("/rounds/<slug>/on-behalf", methods=["GET", "POST"])
@login_required
def on_behalf(slug: str):
    round_ = _organiser_round(slug)
    form = forms.OnBehalfForm()
    _created, response = save_form(
        form, lambda: services.suggest_on_behalf(current_user, round_, form_data(form)),
        "priorities/on_behalf.html", round=round_)
    if response:
        return response
    flash(_("Suggestion added, recorded as gathered on someone's behalf."), "success")
    return redirect(url_for("priorities.on_behalf", slug=round_.slug))


@bp.post("/suggestions/<int:suggestion_id>/moderate")
@login_required
def moderate(suggestion_id: int):
    suggestion = db.session.get(Suggestion, suggestion_id) or abort(404)
    round_ = suggestion.round
    services.require_organiser(current_user, round_)
    form = forms.ModerateForm()
    if not form.validate_on_submit():
        abort(400)
    return _run(round_, lambda: services.moderate(current_user, suggestion, form.status.data,
                                                  form.reason.data),
                _("Decision saved."), "#section-suggestions")


@bp.post("/suggestions/<int:suggestion_id>/merge")
@login_required
def merge(suggestion_id: int):
    duplicate = db.session.get(Suggestion, suggestion_id) or abort(404)
    round_ = duplicate.round
    services.require_organiser(current_user, round_)
    form = forms.MergeForm()
    form.into.choices = []
    if not form.validate_on_submit() or parse_id(form.into.data) is None:
        abort(400)
    keep = db.session.get(Suggestion, parse_id(form.into.data)) or abort(404)
    return _run(round_, lambda: services.merge_suggestions(current_user, duplicate, keep),
                _("Questions merged. Everyone who suggested or followed them is kept."),
                "#section-suggestions")


@bp.post("/rounds/<slug>/priorities")
@login_required
def add_priority(slug: str):
    round_ = _organiser_round(slug)
    form = forms.PriorityForm()
    if not form.validate_on_submit():
        abort(400)
    return _run(round_, lambda: services.create_priority(
        current_user, round_, form_data(form),
        _ids(form.suggestions.data)),
        _("Priority added. Publish the shortlist to show it."), "#section-shortlist")


@bp.route("/<int:priority_id>/edit", methods=["GET", "POST"])
@login_required
def edit_priority(priority_id: int):
    item = services.get_priority(priority_id)
    services.require_organiser(current_user, item.round)
    form = forms.PriorityForm(obj=item)
    _saved, response = save_form(form, lambda: services.update_priority(current_user, item,
                                                                        form_data(form)),
                                "priorities/priority_form.html", priority=item)
    if response:
        return response
    flash(_("Priority saved. Publish the shortlist again to show the new wording."), "success")
    return redirect(url_for("priorities.manage", slug=item.round.slug) + "#section-shortlist")


@bp.post("/rounds/<slug>/shortlist")
@login_required
def publish_shortlist(slug: str):
    round_ = _organiser_round(slug)
    form = forms.ShortlistForm()
    if not form.validate_on_submit():
        abort(400)
    return _run(round_, lambda: services.publish_shortlist(
        current_user, round_, _ids(form.priorities.data),
        form.note.data), _("Shortlist published."), "#section-shortlist")


@bp.post("/rounds/<slug>/codes")
@login_required
def create_codes(slug: str):
    round_ = _organiser_round(slug)
    form = forms.CodeBatchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        batch, codes = services.create_code_batch(current_user, round_, form.size.data,
                                                  form.label.data)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back_to_manage(round_, "#section-codes")
    db.session.commit()
    return render_template("priorities/code_sheet.html", round=round_, batch=batch,
                           codes=codes,
                           vote_url=external_url("priorities.vote_with_code", slug=round_.slug))


@bp.route("/rounds/<slug>/paper", methods=["GET", "POST"])
@login_required
def paper(slug: str):
    round_ = services.get_round(slug)
    services.require_paper_entry(current_user, round_)
    form = _ballot_form(round_, forms.PaperBallotForm)

    def enter():
        data = form_data(form)
        data["choices"] = _chosen(round_, form)
        return services.enter_paper_ballot(current_user, round_, data)

    entered, response = save_form(form, enter, "priorities/paper.html", round=round_,
                                  papers=services.paper_ballots(round_),
                                  can_organise=services.can_organise(current_user, round_),
                                  confirm_form=ConfirmForm())
    if response:
        return response
    flash(_("Paper ballot %(ref)s: %(status)s.", ref=entered.reference,
            status=entered.status_label), "success" if entered.status != "mismatch"
          else "error")
    return redirect(url_for("priorities.paper", slug=round_.slug))


@bp.post("/paper/<int:paper_id>/<action>")
@login_required
def paper_action(paper_id: int, action: str):
    item = db.session.get(PaperBallot, paper_id) or abort(404)
    round_ = db.session.get(PriorityRound, item.round_id)
    services.require_paper_entry(current_user, round_)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        if action == "clear-second":
            services.clear_second_entry(current_user, item)
        elif action == "discard":
            services.discard_paper_ballot(current_user, item)
        else:
            abort(404)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Done."), "success")
    return redirect(url_for("priorities.paper", slug=round_.slug), code=303)


@bp.route("/<int:priority_id>/respond", methods=["GET", "POST"])
@login_required
def respond(priority_id: int):
    item = services.get_priority(priority_id)
    services.require_organiser(current_user, item.round)
    form = forms.ResponseForm()
    if request.method == "GET" and item.response_status:
        form.status.data = item.response_status.value
        form.text.data = item.response_text
    _saved, response = save_form(form, lambda: services.publish_response(
        current_user, item, form.status.data, form.text.data),
        "priorities/respond.html", priority=item)
    if response:
        return response
    flash(_("Response published. Everyone following this priority will get an email about it."),
          "success")
    return redirect(url_for("priorities.priority", priority_id=item.id))

