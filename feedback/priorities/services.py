"""Priority rounds: the rules for suggestions, shortlists, ballots, results and
responses, shared by the web pages, the API, the job and the demo seed.

Functions here only ``flush()``; the request, job or command commits once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import abort, has_request_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, make_transient_to_detached, selectinload

from feedback.accounts.models import OrgRole, User
from feedback.accounts.permissions import PermissionDenied, can_edit_org, org_role
from feedback.audit import services as audit
from feedback.core.caching import forget_pages
from feedback.core.keys import keyed_hash
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError, clean_text, slugify
from feedback.extensions import cache, db
from feedback.notifications import services as notifications
from feedback.notifications.models import NotificationKind
from feedback.organisations.models import Organisation
from feedback.priorities.models import (
    AREA_MAX,
    DESCRIPTION_MAX,
    LOCATION_MAX,
    MAX_CHOICES_LIMIT,
    NOTE_MAX,
    PHASE_ORDER,
    QUESTION_MAX,
    REASON_MAX,
    REFERENCE_MAX,
    RESPONSE_MAX,
    SCOPE_MAX,
    TITLE_MAX,
    TOPICS_MAX,
    WHY_MAX,
    Ballot,
    BallotChoice,
    BallotCode,
    BallotCodeBatch,
    BallotMethod,
    Group,
    InvitationRole,
    InvitationStatus,
    PaperBallot,
    PaperStatus,
    Phase,
    Priority,
    PriorityFollower,
    PriorityRound,
    ResponseStatus,
    RoundInvitation,
    ShortlistEntry,
    ShortlistVersion,
    StoredResults,
    Suggester,
    Suggestion,
    SuggestionFollower,
    SuggestionStatus,
    VoterDescription,
    VotingMethod,
)

RESULTS_CACHE_KEY = "priority-results:{round_id}"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I, which people misread
CODE_LENGTH = 12
MAX_BATCH = 500

# The clear messages people see when a ballot cannot be taken.
# Lazy, so each is translated when it is shown, in the reader's language.
CODE_USED_MESSAGE = _l("This ballot code has already been used to vote. Each code works "
                       "only once. If you did not use it, ask the organisation that gave you "
                       "the code for a new one.")
CODE_UNKNOWN_MESSAGE = _l("We do not recognise that ballot code. Check it against your code "
                          "sheet: it has 12 letters and numbers, like ABCD-EFGH-JK23.")


def _(text: str, **values: Any) -> str:
    """Translate when there is a request to take the language from; jobs, the CLI and the
    demo seed get English."""
    if has_request_context():
        return gettext(text, **values)
    return text % values if values else text


# Identity and keys -------------------------------------------------------------------

def _hmac(message: str) -> str:
    return keyed_hash("ballots", message)


def voter_key(round_id: int, identity: str) -> str:
    """The keyed hash that stands for one person in one round. ``identity`` is
    ``user:<id>`` for an account or ``code:<code hash>`` for a ballot code, so a person
    gets the same key whichever way their ballot arrives (a paper ballot carrying a code
    gets the code's key). Keys differ between rounds, so they cannot be linked."""
    return _hmac(f"ballot|{round_id}|{identity}")


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", (code or "")).upper()


def hash_code(code: str) -> str:
    """Codes are short enough to guess offline, so they are hashed with the secret key."""
    return _hmac(f"code|{normalise_code(code)}")


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


# Permissions ----------------------------------------------------------------------------

def can_organise(user: Any, round_: PriorityRound) -> bool:
    """Editors and admins of any of the round's organisations run it together."""
    return any(can_edit_org(user, org.id) for org in round_.organisations)


def require_organiser(user: Any, round_: PriorityRound) -> None:
    if not can_organise(user, round_):
        raise PermissionDenied(_("Only the organisations running this round can do that."))


def _first_org_of(user: Any, round_: PriorityRound) -> Organisation | None:
    return next((org for org in round_.organisations if can_edit_org(user, org.id)), None)


# Reading ---------------------------------------------------------------------------------

def get_round(slug: str, with_organisations: bool = True) -> PriorityRound:
    """The round, with its organisations unless the caller never shows them (voting)."""
    statement = select(PriorityRound).where(PriorityRound.slug == slug)
    if with_organisations:
        statement = statement.options(selectinload(PriorityRound.organisations))
    return db.session.scalar(statement) or abort(404)


def get_priority(priority_id: int) -> Priority:
    return db.session.get(Priority, priority_id) or abort(404)


def list_rounds(include_drafts_for: Any = None) -> Sequence[PriorityRound]:
    rounds = db.session.scalars(
        select(PriorityRound).options(selectinload(PriorityRound.organisations))
        .order_by(PriorityRound.created_at.desc())).all()
    return [r for r in rounds if r.phase != Phase.DRAFT or
            (include_drafts_for is not None and can_organise(include_drafts_for, r))]


def public_suggestions(round_: PriorityRound) -> Sequence[Suggestion]:
    """Accepted questions, and those set aside with their public reason."""
    shown = (SuggestionStatus.PUBLISHED, SuggestionStatus.OUT_OF_SCOPE,
             SuggestionStatus.ANSWERED, SuggestionStatus.MERGED)
    return db.session.scalars(
        select(Suggestion).options(selectinload(Suggestion.suggesters))
        .where(Suggestion.round_id == round_.id, Suggestion.status.in_(shown))
        .order_by(Suggestion.created_at)).all()


def all_suggestions(round_: PriorityRound) -> Sequence[Suggestion]:
    return db.session.scalars(
        select(Suggestion).options(selectinload(Suggestion.suggesters))
        .where(Suggestion.round_id == round_.id).order_by(Suggestion.created_at)).all()


def list_priorities(round_: PriorityRound) -> Sequence[Priority]:
    return db.session.scalars(select(Priority).where(Priority.round_id == round_.id)
                              .order_by(Priority.id)).all()


def shortlist_versions(round_: PriorityRound) -> Sequence[ShortlistVersion]:
    return db.session.scalars(
        select(ShortlistVersion).options(selectinload(ShortlistVersion.entries))
        .where(ShortlistVersion.round_id == round_.id)
        .order_by(ShortlistVersion.number.desc())).all()


def current_shortlist(round_: PriorityRound,
                      with_priorities: bool = True) -> ShortlistVersion | None:
    """The latest published shortlist with its entries (and, unless ``with_priorities``
    is false, as for a ballot, their priorities), in one query. Load it once per request
    and pass it on (the ballot services take it as ``shortlist``)."""
    entries = joinedload(ShortlistVersion.entries)
    return db.session.scalars(
        select(ShortlistVersion).options(
            entries.joinedload(ShortlistEntry.priority) if with_priorities else entries)
        .where(ShortlistVersion.round_id == round_.id)
        .order_by(ShortlistVersion.number.desc()).limit(1)).unique().first()


def get_shortlist_version(round_: PriorityRound, number: int) -> ShortlistVersion:
    return db.session.scalar(
        select(ShortlistVersion).where(ShortlistVersion.round_id == round_.id,
                                       ShortlistVersion.number == number)) or abort(404)


# Rounds and phases ------------------------------------------------------------------------

def _parse_when(value: Any, label: str, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(_("Enter %(label)s as a date, like 2026-03-31.",
                                    label=label), field) from None
    if when.tzinfo is None:
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    return when


def _clean_round(data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {
        "title": clean_text(data.get("title"), label=_("a title"), max_length=TITLE_MAX,
                            required=True, field="title"),
        "scope": clean_text(data.get("scope"), label=_("the question the round asks"),
                            max_length=SCOPE_MAX, required=True, field="scope"),
        "topics": clean_text(data.get("topics"), label=_("the topics"),
                             max_length=TOPICS_MAX, field="topics"),
        "area": clean_text(data.get("area"), label=_("the area"), max_length=AREA_MAX,
                           field="area"),
    }
    try:
        cleaned["voting_method"] = VotingMethod(data.get("voting_method") or "choose")
    except ValueError:
        raise ValidationError(_("Choose how people vote."), "voting_method") from None
    try:
        max_choices = int(data.get("max_choices") or 3)
    except (TypeError, ValueError):
        raise ValidationError(_("Enter how many priorities each person can choose, as a "
                                "number."), "max_choices") from None
    if not 1 <= max_choices <= MAX_CHOICES_LIMIT:
        raise ValidationError(_("Each person can choose between 1 and %(n)s priorities.",
                                n=MAX_CHOICES_LIMIT), "max_choices")
    cleaned["max_choices"] = max_choices
    cleaned["hide_counts"] = bool(data.get("hide_counts"))
    groups = list(data.get("groups") or [])
    try:
        cleaned["groups"] = [Group(g).value for g in groups]
    except ValueError:
        raise ValidationError(_("Choose groups from the list."), "groups") from None
    if not cleaned["groups"]:
        raise ValidationError(_("Choose at least one group to ask."), "groups")
    dates = [("suggestions_open_at", _("the date suggestions open")),
             ("review_at", _("the date suggestions close for review")),
             ("voting_opens_at", _("the date voting opens")),
             ("voting_closes_at", _("the date voting closes")),
             ("responses_at", _("the date responses are due"))]
    previous = None
    for name, label in dates:
        when = _parse_when(data.get(name), label, name)
        if when is not None and previous is not None and when < previous:
            raise ValidationError(_("The dates must follow each other in order: %(label)s "
                                    "is too early.", label=label), name)
        previous = when or previous
        cleaned[name] = when
    return cleaned


def create_round(actor: Any, organisations: Sequence[Organisation],
                 data: dict[str, Any]) -> PriorityRound:
    """Start a round (as a draft). The actor must be an editor of the first organisation,
    which runs it. Each other organisation is invited (``invite_organisation``) and runs
    it only once one of its admins accepts; an actor who is an admin of it accepts by
    starting the round. The demo seed and the CLI (``actor=None``) add them at once."""
    if not organisations:
        raise ValidationError(_("Choose the organisation running the round."), "organisation")
    lead, *others = list(dict.fromkeys(organisations))
    if actor is not None and not can_edit_org(actor, lead.id):
        raise PermissionDenied(_("Only editors of this organisation can start a round for it."))
    cleaned = _clean_round(data)
    slug = slugify(cleaned["title"])
    base, number = slug, 1
    while db.session.scalar(select(exists().where(PriorityRound.slug == slug))):
        number += 1
        slug = f"{base}-{number}"
    round_ = PriorityRound(slug=slug, created_by_id=getattr(actor, "id", None), **cleaned)
    round_.organisations = [lead] + (others if actor is None else [])
    db.session.add(round_)
    db.session.flush()
    audit.record("priority_round.created", actor=actor, organisation=lead,
                 target=round_, summary=f"Started the round {round_.title}")
    if actor is not None:
        for organisation in others:
            invitation = invite_organisation(actor, round_, organisation, lead)
            if _speaks_for(actor, organisation.id):
                decide_invitation(actor, invitation, accept=True)
    return round_


# Co-organisers: invited, and running the round only once they accept ------------------

def _speaks_for(user: Any, organisation_id: int) -> bool:
    """Only the organisation's own admins can agree for it (not platform admins)."""
    return org_role(user, organisation_id) == OrgRole.ADMIN


def invite_organisation(actor: Any, round_: PriorityRound, organisation: Organisation,
                        inviting: Organisation | None = None) -> RoundInvitation:
    """Ask ``organisation`` to run the round too. Nothing public changes until one of its
    admins accepts. Audited for both organisations. Asking again after a decline asks
    again; asking an organisation already running it does nothing."""
    require_organiser(actor, round_)
    inviting = inviting or _first_org_of(actor, round_)
    invitation = db.session.scalar(select(RoundInvitation).where(
        RoundInvitation.round_id == round_.id,
        RoundInvitation.organisation_id == organisation.id,
        RoundInvitation.role == InvitationRole.ORGANISER))
    if invitation is not None and invitation.status == InvitationStatus.PENDING:
        return invitation
    if organisation in round_.organisations:
        raise ValidationError(_("That organisation already runs this round."), "partners")
    invitation = invitation or RoundInvitation(round_id=round_.id,
                                               organisation_id=organisation.id)
    invitation.status = InvitationStatus.PENDING
    invitation.invited_by_id = getattr(actor, "id", None)
    invitation.invited_by_organisation_id = getattr(inviting, "id", None)
    invitation.invited_at = utcnow()
    invitation.decided_by_id = invitation.decided_at = None
    db.session.add(invitation)
    db.session.flush()
    summary = f"{round_.title}: {organisation.name} invited to run it with " \
              f"{getattr(inviting, 'name', 'the organisers')}"
    for side in (inviting, organisation):
        audit.record("priority_round.co_organiser_invited", actor=actor, organisation=side,
                     target=invitation, summary=summary, round_id=round_.id,
                     invited_organisation_id=organisation.id)
    return invitation


def pending_invitations(user: Any) -> Sequence[RoundInvitation]:
    """Invitations waiting for an answer from an organisation ``user`` is an admin of."""
    if not getattr(user, "is_authenticated", False):
        return []
    admin_of = [m.organisation_id for m in user.memberships
                if _speaks_for(user, m.organisation_id)]
    if not admin_of:
        return []
    return db.session.scalars(
        select(RoundInvitation).options(selectinload(RoundInvitation.round),
                                        selectinload(RoundInvitation.organisation),
                                        selectinload(RoundInvitation.invited_by_organisation))
        .where(RoundInvitation.organisation_id.in_(admin_of),
               RoundInvitation.role == InvitationRole.ORGANISER,
               RoundInvitation.status == InvitationStatus.PENDING)
        .order_by(RoundInvitation.invited_at)).all()


def round_invitations(round_: PriorityRound) -> Sequence[RoundInvitation]:
    """A round's invitations that are waiting or were declined (for its organisers)."""
    return db.session.scalars(
        select(RoundInvitation).options(selectinload(RoundInvitation.organisation))
        .where(RoundInvitation.round_id == round_.id,
               RoundInvitation.role == InvitationRole.ORGANISER,
               RoundInvitation.status != InvitationStatus.ACCEPTED)
        .order_by(RoundInvitation.invited_at)).all()


def decide_invitation(actor: Any, invitation: RoundInvitation, *,
                      accept: bool) -> RoundInvitation:
    """An admin of the invited organisation accepts (it then runs the round: it is named
    on it, counted in its figures and gets organisers' powers) or declines. A request to
    help with paper ballots is answered by an organiser instead (``decide_help``)."""
    if invitation.role == InvitationRole.PAPER_HELPER:
        return decide_help(actor, invitation, accept=accept)
    organisation = invitation.organisation
    if not _speaks_for(actor, organisation.id):
        raise PermissionDenied(_("Only admins of the invited organisation can answer."))
    if invitation.status != InvitationStatus.PENDING:
        raise ValidationError(_("This invitation has already been answered."))
    round_ = invitation.round
    invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    invitation.decided_by_id = getattr(actor, "id", None)
    invitation.decided_at = utcnow()
    if accept and organisation not in round_.organisations:
        round_.organisations.append(organisation)
    db.session.flush()
    action = "accepted" if accept else "declined"
    summary = f"{round_.title}: {organisation.name} {action} the invitation to run it"
    for side in dict.fromkeys([organisation, invitation.invited_by_organisation]):
        audit.record(f"priority_round.co_organiser_{action}", actor=actor, organisation=side,
                     target=invitation, summary=summary, round_id=round_.id,
                     invited_organisation_id=organisation.id)
    return invitation


# Partners helping with paper ballots: asked for by the partner, answered by an organiser --

def helper_organisations(round_: PriorityRound) -> list[Organisation]:
    """Organisations an organiser accepted to help collect the round's paper ballots (not
    those that run it): named on the round page as helpers."""
    running = {o.id for o in round_.organisations}
    return [o for o in db.session.scalars(
        select(Organisation).join(RoundInvitation,
                                  RoundInvitation.organisation_id == Organisation.id)
        .where(RoundInvitation.round_id == round_.id,
               RoundInvitation.role == InvitationRole.PAPER_HELPER,
               RoundInvitation.status == InvitationStatus.ACCEPTED)
        .order_by(Organisation.name)) if o.id not in running]


def _helper_org_of(user: Any, round_: PriorityRound) -> Organisation | None:
    """The accepted helper organisation ``user`` is staff (editor or admin) of, if any."""
    staff_of = [m.organisation_id for m in getattr(user, "memberships", None) or []
                if can_edit_org(user, m.organisation_id)]
    if not staff_of or round_.id is None:
        return None
    return db.session.scalar(
        select(Organisation).join(RoundInvitation,
                                  RoundInvitation.organisation_id == Organisation.id)
        .where(RoundInvitation.round_id == round_.id,
               RoundInvitation.organisation_id.in_(staff_of),
               RoundInvitation.role == InvitationRole.PAPER_HELPER,
               RoundInvitation.status == InvitationStatus.ACCEPTED)
        .order_by(Organisation.name).limit(1))


def can_enter_papers(user: Any, round_: PriorityRound) -> bool:
    """Organisers, and staff of an accepted helper organisation, may type in (and correct,
    before they are counted) the round's paper ballots. Helpers may do nothing else."""
    return can_organise(user, round_) or _helper_org_of(user, round_) is not None


def require_paper_entry(user: Any, round_: PriorityRound) -> None:
    if not can_enter_papers(user, round_):
        raise PermissionDenied(_("Only the organisations running this round, and those it "
                                 "accepted to help with paper ballots, can do that."))


def _paper_org_of(user: Any, round_: PriorityRound) -> Organisation | None:
    return _first_org_of(user, round_) or _helper_org_of(user, round_)


def help_round_is_open(round_: PriorityRound) -> bool:
    """Help can be asked for while a round is gathering suggestions or votes."""
    return round_.phase in (Phase.SUGGESTIONS, Phase.REVIEW, Phase.VOTING)


def help_organisations(user: Any, round_: PriorityRound) -> list[Organisation]:
    """The organisations ``user`` is staff of that could ask to help with the round: not
    running it and not already asked or accepted (a declined one may ask again)."""
    if not getattr(user, "is_authenticated", False) or not help_round_is_open(round_):
        return []
    running = {o.id for o in round_.organisations}
    candidates = [m.organisation for m in user.memberships
                  if m.organisation_id not in running
                  and can_edit_org(user, m.organisation_id)]
    if not candidates:
        return []
    taken = _offered_or_invited(round_)
    return sorted((o for o in candidates if o.id not in taken), key=lambda o: o.name)


def _offered_or_invited(round_: PriorityRound) -> set[int]:
    """Organisations that have offered to help (and not been declined), or that are
    invited to run the round and have yet to answer (they answer that instead)."""
    return set(db.session.scalars(
        select(RoundInvitation.organisation_id).where(
            RoundInvitation.round_id == round_.id,
            ((RoundInvitation.role == InvitationRole.PAPER_HELPER)
             & (RoundInvitation.status != InvitationStatus.DECLINED))
            | ((RoundInvitation.role == InvitationRole.ORGANISER)
               & (RoundInvitation.status == InvitationStatus.PENDING)))))


def _help_summary(round_: PriorityRound, organisation: Organisation, what: str) -> str:
    return f"{round_.title}: {organisation.name} {what}"


def ask_to_help(actor: Any, round_: PriorityRound, organisation: Organisation,
                note: str | None = None) -> RoundInvitation:
    """Staff of ``organisation`` ask to help collect the round's paper ballots. Nothing
    changes until an organiser accepts. Audited for the partner and for each organisation
    running the round. Asking again while waiting returns the same request; asking again
    after a decline asks again."""
    if not can_edit_org(actor, organisation.id):
        raise PermissionDenied(_("Only staff of this organisation can ask for it."))
    if not help_round_is_open(round_):
        raise ValidationError(_("This round is not open for help with paper ballots."))
    if organisation in round_.organisations:
        raise ValidationError(_("That organisation already runs this round."), "organisation")
    if db.session.scalar(select(RoundInvitation.id).where(
            RoundInvitation.round_id == round_.id,
            RoundInvitation.organisation_id == organisation.id,
            RoundInvitation.role == InvitationRole.ORGANISER,
            RoundInvitation.status == InvitationStatus.PENDING)):
        raise ValidationError(_("That organisation is invited to run this round. Accept or "
                                "decline the invitation instead."), "organisation")
    cleaned = clean_text(note, label=_("the note"), max_length=NOTE_MAX,
                         field="note") or None
    request_ = db.session.scalar(select(RoundInvitation).where(
        RoundInvitation.round_id == round_.id,
        RoundInvitation.organisation_id == organisation.id,
        RoundInvitation.role == InvitationRole.PAPER_HELPER).with_for_update())
    if request_ is not None and request_.status != InvitationStatus.DECLINED:
        return request_
    if request_ is None:  # the first offer; a colleague may be sending one at this moment
        request_ = RoundInvitation(round_id=round_.id, organisation_id=organisation.id,
                                   role=InvitationRole.PAPER_HELPER, invited_by_id=actor.id,
                                   invited_by_organisation_id=organisation.id, note=cleaned)
        try:
            with db.session.begin_nested():
                db.session.add(request_)
        except IntegrityError:  # theirs arrived first: it is the organisation's offer
            return db.session.scalar(select(RoundInvitation).where(
                RoundInvitation.round_id == round_.id,
                RoundInvitation.organisation_id == organisation.id,
                RoundInvitation.role == InvitationRole.PAPER_HELPER))
    request_.status = InvitationStatus.PENDING
    request_.note = cleaned
    request_.invited_by_id = actor.id
    request_.invited_by_organisation_id = organisation.id
    request_.invited_at = utcnow()
    request_.decided_by_id = request_.decided_at = None
    db.session.flush()
    summary = _help_summary(round_, organisation, "asked to help with its paper ballots")
    for side in dict.fromkeys([organisation, *round_.organisations]):
        audit.record("priority_round.helper_requested", actor=actor, organisation=side,
                     target=request_, summary=summary, round_id=round_.id,
                     helper_organisation_id=organisation.id)
    return request_


def help_requests(round_: PriorityRound) -> Sequence[RoundInvitation]:
    """A round's requests to help with paper ballots, waiting first (for its organisers)."""
    return db.session.scalars(
        select(RoundInvitation).options(selectinload(RoundInvitation.organisation))
        .where(RoundInvitation.round_id == round_.id,
               RoundInvitation.role == InvitationRole.PAPER_HELPER)
        .order_by(RoundInvitation.status != InvitationStatus.PENDING,
                  RoundInvitation.invited_at)).all()


def decide_help(actor: Any, request_: RoundInvitation, *, accept: bool) -> RoundInvitation:
    """An organiser of the round accepts a partner's offer to help with paper ballots (its
    staff may then enter them, and it is named as a helper on the round) or declines it.
    Audited for the partner and for the organiser's organisation."""
    round_ = request_.round
    require_organiser(actor, round_)
    if request_.status != InvitationStatus.PENDING:
        raise ValidationError(_("This request has already been answered."))
    request_.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    request_.decided_by_id = actor.id
    request_.decided_at = utcnow()
    db.session.flush()
    action = "accepted" if accept else "declined"
    organisation = request_.organisation
    summary = _help_summary(round_, organisation,
                            f"{action} as a helper with its paper ballots")
    for side in dict.fromkeys([organisation, _first_org_of(actor, round_)]):
        audit.record(f"priority_round.helper_{action}", actor=actor, organisation=side,
                     target=request_, summary=summary, round_id=round_.id,
                     helper_organisation_id=organisation.id)
    return request_


def update_round(actor: Any, round_: PriorityRound, data: dict[str, Any]) -> PriorityRound:
    require_organiser(actor, round_)
    cleaned = _clean_round(data)
    if round_.phase_at_least(Phase.VOTING):
        for locked in ("voting_method", "max_choices"):
            if cleaned[locked] != getattr(round_, locked):
                raise ValidationError(_("The voting rules cannot change once voting has "
                                        "started."), locked)
    for key, value in cleaned.items():
        setattr(round_, key, value)
    db.session.flush()
    audit.record("priority_round.updated", actor=actor, organisation=_first_org_of(actor, round_),
                 target=round_, summary=f"Edited the round {round_.title}")
    return round_


def set_phase(actor: Any, round_: PriorityRound, phase: Phase | str,
              reason: str = "by hand") -> PriorityRound:
    """Move a round to ``phase`` (organisers, or the scheduled job with ``actor=None``)."""
    if actor is not None:
        require_organiser(actor, round_)
    try:
        phase = Phase(phase)
    except ValueError:
        raise ValidationError(_("Choose a phase from the list."), "phase") from None
    if phase == round_.phase:
        return round_
    if phase == Phase.VOTING and current_shortlist(round_) is None:
        raise ValidationError(_("Publish a shortlist before voting opens."), "phase")
    previous = round_.phase
    round_.phase = phase
    if round_.phase_at_least(Phase.RESULTS) and round_.results_published_at is None:
        round_.results_published_at = utcnow()
    db.session.flush()
    forget_results(round_.id, pages=True)
    audit.record("priority_round.phase_changed", actor=actor,
                 organisation=_first_org_of(actor, round_) if actor else
                 (round_.organisations[0] if round_.organisations else None),
                 target=round_, summary=f"{round_.title}: {previous.value} -> {phase.value} "
                 f"({reason})", previous=previous.value, phase=phase.value, reason=reason)
    return round_


def due_phase(round_: PriorityRound, now: datetime) -> Phase:
    """The phase the schedule says the round should be in by ``now`` (never earlier
    than where it is: the job only moves rounds forward)."""
    schedule = [(round_.suggestions_open_at, Phase.SUGGESTIONS), (round_.review_at, Phase.REVIEW),
                (round_.voting_opens_at, Phase.VOTING), (round_.voting_closes_at, Phase.RESULTS),
                (round_.responses_at, Phase.RESPONSES)]
    due = round_.phase
    for when, phase in schedule:
        if when is not None and when <= now and PHASE_ORDER.index(phase) > PHASE_ORDER.index(due):
            due = phase
    return due


# Suggestions -----------------------------------------------------------------------------

def _require_phase(round_: PriorityRound, phase: Phase, message: str) -> None:
    if round_.phase != phase:
        raise ValidationError(message)


def _clean_suggestion(data: dict[str, Any]) -> tuple[str, str]:
    question = clean_text(data.get("question"), label=_("your question"),
                          max_length=QUESTION_MAX, required=True, field="question")
    why = clean_text(data.get("why_it_matters"), label=_("why it matters"),
                     max_length=WHY_MAX, field="why_it_matters", multiline=True)
    return question, why


def suggest(actor: User, round_: PriorityRound, data: dict[str, Any]) -> Suggestion:
    """A signed-in person suggests a question. It waits for moderation."""
    _require_phase(round_, Phase.SUGGESTIONS, _("This round is not taking suggestions now."))
    question, why = _clean_suggestion(data)
    suggestion = Suggestion(round_id=round_.id, question=question, why_it_matters=why)
    suggestion.suggesters.append(Suggester(user_id=actor.id))
    suggestion.followers.append(SuggestionFollower(user_id=actor.id))
    db.session.add(suggestion)
    db.session.flush()
    return suggestion


def suggest_on_behalf(actor: User, round_: PriorityRound, data: dict[str, Any]) -> Suggestion:
    """Partner staff enter a question someone gave them at a community event."""
    require_organiser(actor, round_)
    _require_phase(round_, Phase.SUGGESTIONS, _("This round is not taking suggestions now."))
    question, why = _clean_suggestion(data)
    event = clean_text(data.get("event"), label=_("where it was gathered"),
                       max_length=LOCATION_MAX, required=True, field="event")
    organisation = _first_org_of(actor, round_)
    suggestion = Suggestion(round_id=round_.id, question=question, why_it_matters=why,
                            status=SuggestionStatus.PUBLISHED)
    suggestion.suggesters.append(Suggester(on_behalf=True, entered_by_id=actor.id,
                                           entered_for_organisation_id=organisation.id,
                                           event=event))
    db.session.add(suggestion)
    db.session.flush()
    audit.record("priority_suggestion.entered_on_behalf", actor=actor, organisation=organisation,
                 target=suggestion, summary=f"Entered a suggestion gathered at {event}")
    return suggestion


def moderate(actor: Any, suggestion: Suggestion, status: SuggestionStatus | str,
             reason: str = "") -> Suggestion:
    """Accept, remove, or set aside a suggestion as out of scope or already answered
    (those two need a public reason)."""
    round_ = suggestion.round
    require_organiser(actor, round_)
    try:
        status = SuggestionStatus(status)
    except ValueError:
        raise ValidationError(_("Choose what to do with the suggestion."), "status") from None
    if status in (SuggestionStatus.MERGED, SuggestionStatus.PENDING):
        raise ValidationError(_("Choose what to do with the suggestion."), "status")
    reason = clean_text(reason, label=_("the public reason"), max_length=REASON_MAX,
                        field="reason", multiline=True,
                        required=status in (SuggestionStatus.OUT_OF_SCOPE,
                                            SuggestionStatus.ANSWERED))
    suggestion.status = status
    suggestion.public_reason = reason
    db.session.flush()
    audit.record("priority_suggestion.moderated", actor=actor,
                 organisation=_first_org_of(actor, round_), target=suggestion,
                 summary=f"Suggestion {suggestion.id}: {status.value}", status=status.value)
    return suggestion


def merge_suggestions(actor: Any, duplicate: Suggestion, keep: Suggestion) -> Suggestion:
    """Merge ``duplicate`` into ``keep``: its suggesters and followers move across."""
    round_ = keep.round
    require_organiser(actor, round_)
    if duplicate.id == keep.id or duplicate.round_id != keep.round_id:
        raise ValidationError(_("Choose a different question in the same round to merge "
                                "with."), "into")
    if keep.status == SuggestionStatus.MERGED:
        raise ValidationError(_("That question has itself been merged; merge into the one "
                                "it was merged with."), "into")
    for suggester in list(duplicate.suggesters):
        suggester.suggestion_id = keep.id
    following = {f.user_id for f in keep.followers}
    for follower in list(duplicate.followers):
        if follower.user_id in following:
            db.session.delete(follower)
        else:
            follower.suggestion_id = keep.id
            following.add(follower.user_id)
    # Anything merged into the duplicate earlier now points at the kept question too.
    for earlier in db.session.scalars(select(Suggestion).where(
            Suggestion.merged_into_id == duplicate.id)):
        earlier.merged_into_id = keep.id
    duplicate.status = SuggestionStatus.MERGED
    duplicate.merged_into_id = keep.id
    if keep.status == SuggestionStatus.PENDING:
        keep.status = SuggestionStatus.PUBLISHED
    db.session.flush()
    db.session.expire(keep)
    db.session.expire(duplicate)
    audit.record("priority_suggestion.merged", actor=actor,
                 organisation=_first_org_of(actor, round_), target=keep,
                 summary=f"Merged suggestion {duplicate.id} into {keep.id}")
    return keep


def follow_suggestion(user: User, suggestion: Suggestion) -> None:
    if not db.session.scalar(select(exists().where(SuggestionFollower.suggestion_id ==
                                                   suggestion.id,
                                                   SuggestionFollower.user_id == user.id))):
        db.session.add(SuggestionFollower(suggestion_id=suggestion.id, user_id=user.id))
        db.session.flush()


# Priorities and the shortlist -----------------------------------------------------------

def _clean_priority(data: dict[str, Any]) -> tuple[str, str]:
    title = clean_text(data.get("title"), label=_("the priority"), max_length=TITLE_MAX,
                       required=True, field="title")
    description = clean_text(data.get("description"), label=_("the plain-English description"),
                             max_length=DESCRIPTION_MAX, field="description", multiline=True)
    return title, description


def create_priority(actor: Any, round_: PriorityRound, data: dict[str, Any],
                    suggestion_ids: Sequence[int] = ()) -> Priority:
    """Word a priority for the shortlist from one or more suggestions. Their suggesters
    and followers follow the priority."""
    require_organiser(actor, round_)
    title, description = _clean_priority(data)
    priority = Priority(round_id=round_.id, title=title, description=description)
    db.session.add(priority)
    db.session.flush()
    followers: set[int] = set()
    for suggestion_id in suggestion_ids:
        suggestion = db.session.get(Suggestion, int(suggestion_id))
        if suggestion is None or suggestion.round_id != round_.id:
            raise ValidationError(_("Choose suggestions from this round."), "suggestions")
        suggestion.priority_id = priority.id
        followers.update(f.user_id for f in suggestion.followers)
        followers.update(s.user_id for s in suggestion.suggesters if s.user_id)
    for user_id in followers:
        db.session.add(PriorityFollower(priority_id=priority.id, user_id=user_id))
    db.session.flush()
    audit.record("priority.created", actor=actor, organisation=_first_org_of(actor, round_),
                 target=priority, summary=f"Added the priority {title}")
    return priority


def update_priority(actor: Any, priority: Priority, data: dict[str, Any]) -> Priority:
    require_organiser(actor, priority.round)
    priority.title, priority.description = _clean_priority(data)
    db.session.flush()
    audit.record("priority.updated", actor=actor,
                 organisation=_first_org_of(actor, priority.round), target=priority,
                 summary=f"Reworded the priority {priority.title}")
    return priority


def publish_shortlist(actor: Any, round_: PriorityRound, priority_ids: Sequence[int],
                      note: str = "") -> ShortlistVersion:
    """Publish a new version of the shortlist. Earlier versions stay as they were."""
    require_organiser(actor, round_)
    if round_.phase_at_least(Phase.RESULTS):
        raise ValidationError(_("The shortlist cannot change after voting has closed."))
    ids = list(dict.fromkeys(int(i) for i in priority_ids))
    if not ids:
        raise ValidationError(_("Choose at least one priority for the shortlist."), "priorities")
    priorities = {p.id: p for p in db.session.scalars(
        select(Priority).where(Priority.id.in_(ids), Priority.round_id == round_.id))}
    if len(priorities) != len(ids):
        raise ValidationError(_("Choose priorities from this round."), "priorities")
    note = clean_text(note, label=_("the note"), max_length=REASON_MAX, field="note",
                      multiline=True)
    number = (db.session.scalar(select(func.max(ShortlistVersion.number))
                                .where(ShortlistVersion.round_id == round_.id)) or 0) + 1
    version = ShortlistVersion(round_id=round_.id, number=number, note=note,
                               published_by_id=getattr(actor, "id", None))
    for position, priority_id in enumerate(ids, start=1):
        priority = priorities[priority_id]
        version.entries.append(ShortlistEntry(priority_id=priority.id, position=position,
                                              title=priority.title,
                                              description=priority.description))
    db.session.add(version)
    db.session.flush()
    audit.record("priority_shortlist.published", actor=actor,
                 organisation=_first_org_of(actor, round_), target=version,
                 summary=f"{round_.title}: shortlist version {number} "
                 f"({len(ids)} priorities)")
    return version


def shortlisted_in(priority: Priority) -> list[int]:
    """The shortlist version numbers that included this priority."""
    return list(db.session.scalars(
        select(ShortlistVersion.number).join(ShortlistEntry)
        .where(ShortlistEntry.priority_id == priority.id).order_by(ShortlistVersion.number)))


def follow_priority(user: User, priority: Priority) -> None:
    if not is_following(user, priority):
        db.session.add(PriorityFollower(priority_id=priority.id, user_id=user.id))
        db.session.flush()


def unfollow_priority(user: User, priority: Priority) -> None:
    db.session.execute(delete(PriorityFollower).where(PriorityFollower.priority_id ==
                                                      priority.id,
                                                      PriorityFollower.user_id == user.id))


def is_following(user: Any, priority: Priority) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(db.session.scalar(select(exists().where(
        PriorityFollower.priority_id == priority.id, PriorityFollower.user_id == user.id))))


# Voting ----------------------------------------------------------------------------------

def forget_results(round_id: int, pages: bool = False) -> None:
    """Drop a round's stored and cached counts (``results.raw_counts``): its phase or
    its voters' descriptions changed. ``pages``: also every cached page (a phase change
    shows at once; a description, which may come with every ballot, shows when the
    results page's cache runs out)."""
    db.session.execute(delete(StoredResults).where(StoredResults.round_id == round_id))
    cache.delete(RESULTS_CACHE_KEY.format(round_id=round_id))
    if pages:
        forget_pages()


def check_voting_open(round_: PriorityRound, now: datetime | None = None) -> None:
    now = now or utcnow()
    if round_.phase != Phase.VOTING or (round_.voting_closes_at is not None and
                                        now >= round_.voting_closes_at):
        if round_.phase_at_least(Phase.RESULTS) or round_.phase == Phase.VOTING:
            raise ValidationError(_("Voting in this round has closed, so ballots can no "
                                    "longer be taken or changed."))
        raise ValidationError(_("Voting in this round has not opened yet."))


def clean_choices(round_: PriorityRound, priority_ids: Sequence[Any],
                  shortlist: ShortlistVersion | None = None) -> list[int]:
    """Check a ballot's choices (in order of preference): at least one, at most N, no
    repeats, all from this round's current shortlist."""
    chosen: list[int] = []
    for raw in priority_ids:
        if raw in (None, ""):
            continue
        try:
            chosen.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationError(_("Choose priorities from the list."), "choices") from None
    if not chosen:
        raise ValidationError(_("Choose at least one priority."), "choices")
    if len(chosen) != len(set(chosen)):
        raise ValidationError(_("You chose the same priority more than once. Choose each "
                                "priority only once."), "choices")
    if len(chosen) > round_.max_choices:
        raise ValidationError(_("You can choose up to %(n)s priorities. You chose %(k)s.",
                                n=round_.max_choices, k=len(chosen)), "choices")
    shortlist = shortlist or current_shortlist(round_)
    allowed = {e.priority_id for e in shortlist.entries} if shortlist else set()
    if not set(chosen) <= allowed:
        raise ValidationError(_("One of your choices is not on this round's shortlist. "
                                "Your ballot was not recorded; choose again from the list."),
                              "choices")
    return chosen


def _insert_ballot(round_: PriorityRound, key: str, method: BallotMethod) -> Ballot | None:
    """Insert the ballot row unless this person already has one (one statement, ``ON
    CONFLICT DO NOTHING``: two requests racing to insert cannot both succeed)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    now = utcnow()
    ballot_id = db.session.scalar(
        dialect.insert(Ballot).values(round_id=round_.id, voter_key=key, method=method,
                                      cast_at=now)
        .on_conflict_do_nothing(index_elements=["round_id", "voter_key"])
        .returning(Ballot.id))
    if ballot_id is None:
        return None
    # The row as inserted, known to the session without reading it back.
    ballot = Ballot(id=ballot_id, round_id=round_.id, voter_key=key, method=method,
                    cast_at=now, changed_at=None)
    make_transient_to_detached(ballot)
    db.session.add(ballot)
    return ballot


def _write_ballot(round_: PriorityRound, key: str, method: BallotMethod,
                  chosen: list[int], *, replaceable: bool = True) -> tuple[Ballot, bool]:
    """Insert the ballot, or replace the person's earlier one (unless ``replaceable`` is
    false: a code used without an account votes once). Returns (ballot, replaced)."""
    ballot = _insert_ballot(round_, key, method)
    replaced = ballot is None
    if ballot is None:
        ballot = db.session.scalar(select(Ballot).where(Ballot.round_id == round_.id,
                                                        Ballot.voter_key == key)
                                   .with_for_update())
        if not replaceable:
            raise ValidationError(CODE_USED_MESSAGE, "code")
        db.session.execute(delete(BallotChoice).where(BallotChoice.ballot_id == ballot.id))
        ballot.method = method
        ballot.changed_at = utcnow()
    db.session.execute(insert(BallotChoice), [  # one statement for all the choices
        {"ballot_id": ballot.id, "priority_id": priority_id, "rank": rank}
        for rank, priority_id in enumerate(chosen, start=1)])
    db.session.flush()
    db.session.expire(ballot, ["choices"])
    return ballot, replaced


def cast_online_ballot(user: User, round_: PriorityRound, priority_ids: Sequence[Any],
                       shortlist: ShortlistVersion | None = None) -> tuple[Ballot, bool]:
    """A signed-in person with a confirmed email votes, or changes their vote."""
    if user.email_confirmed_at is None:
        raise ValidationError(_("Confirm your email address before you vote online."))
    check_voting_open(round_)
    chosen = clean_choices(round_, priority_ids, shortlist)
    return _write_ballot(round_, voter_key(round_.id, f"user:{user.id}"), BallotMethod.ONLINE,
                         chosen)


def _claim_code(round_: PriorityRound, code: str, account: Any = None) -> str:
    """Mark the code used and return its hash, or say clearly why it cannot be used. Used
    by someone signed in (``account``), the code is bound to their account: it stays
    theirs, so they alone can use it again (to change their ballot)."""
    if len(normalise_code(code)) != CODE_LENGTH:
        raise ValidationError(CODE_UNKNOWN_MESSAGE, "code")
    code_hash = hash_code(code)
    owner = getattr(account, "id", None)
    # One statement marks an unused code used and binds it; the row lock makes a racing
    # second use wait, then find it used.
    claimed = db.session.scalar(
        update(BallotCode).where(BallotCode.code_hash == code_hash,
                                 BallotCode.round_id == round_.id, BallotCode.used_at.is_(None))
        .values(used_at=utcnow(), user_id=owner).returning(BallotCode.code_hash)
        .execution_options(synchronize_session=False))
    if claimed is not None:
        return claimed
    used = db.session.execute(select(BallotCode.user_id).where(
        BallotCode.code_hash == code_hash, BallotCode.round_id == round_.id)).first()
    if used is None:
        raise ValidationError(CODE_UNKNOWN_MESSAGE, "code")
    if owner is None or used.user_id != owner:
        raise ValidationError(CODE_USED_MESSAGE, "code")
    return code_hash


def cast_code_ballot(round_: PriorityRound, code: str, priority_ids: Sequence[Any],
                     user: Any = None, shortlist: ShortlistVersion | None = None
                     ) -> tuple[Ballot, bool]:
    """Vote with a one-time ballot code. The code is used up only if the ballot is taken.

    One person, one ballot across channels: someone signed in (``user``) votes under
    their account's voter key whichever way they vote, so a code they use replaces their
    online ballot, and a later online ballot (or another code) replaces it in turn; the
    unique (round, voter key) constraint keeps this true under concurrent requests. The
    code is bound to their account. Without an account the code itself is the voter,
    once. Returns (ballot, replaced)."""
    check_voting_open(round_)
    chosen = clean_choices(round_, priority_ids, shortlist)
    account = user if getattr(user, "is_authenticated", False) else None
    code_hash = _claim_code(round_, code, account)
    if account is not None:
        return _write_ballot(round_, voter_key(round_.id, f"user:{account.id}"),
                             BallotMethod.CODE, chosen)
    return _write_ballot(round_, voter_key(round_.id, f"code:{code_hash}"),
                         BallotMethod.CODE, chosen, replaceable=False)


def create_code_batch(actor: Any, round_: PriorityRound, size: Any,
                      label: str = "") -> tuple[BallotCodeBatch, list[str]]:
    """Make a batch of one-time codes. The codes are returned once, for printing; only
    their hashes are stored."""
    require_organiser(actor, round_)
    if round_.phase_at_least(Phase.RESULTS):
        raise ValidationError(_("Voting in this round has closed."))
    try:
        size = int(size)
    except (TypeError, ValueError):
        raise ValidationError(_("Enter how many codes to make, as a number."), "size") from None
    if not 1 <= size <= MAX_BATCH:
        raise ValidationError(_("Make between 1 and %(n)s codes at a time.", n=MAX_BATCH),
                              "size")
    label = clean_text(label, label=_("the label"), max_length=LOCATION_MAX, field="label")
    batch = BallotCodeBatch(round_id=round_.id, size=size, label=label,
                            created_by_id=getattr(actor, "id", None),
                            organisation_id=getattr(_first_org_of(actor, round_), "id", None))
    db.session.add(batch)
    db.session.flush()
    codes = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
             for _ in range(size)]
    db.session.add_all(BallotCode(round_id=round_.id, batch_id=batch.id,
                                  code_hash=hash_code(code)) for code in codes)
    db.session.flush()
    audit.record("priority_codes.created", actor=actor, organisation=batch.organisation,
                 target=batch, summary=f"{round_.title}: made {size} ballot codes", size=size)
    return batch, [format_code(code) for code in codes]


def code_batches(round_: PriorityRound) -> list[tuple[BallotCodeBatch, int]]:
    """Each batch with how many of its codes have been used."""
    used = dict(db.session.execute(
        select(BallotCode.batch_id, func.count()).where(BallotCode.round_id == round_.id,
                                                        BallotCode.used_at.is_not(None))
        .group_by(BallotCode.batch_id)).all())
    batches = db.session.scalars(select(BallotCodeBatch).where(
        BallotCodeBatch.round_id == round_.id).order_by(BallotCodeBatch.created_at)).all()
    return [(batch, used.get(batch.id, 0)) for batch in batches]


def save_description(ballot_id: int, data: dict[str, Any]) -> VoterDescription | None:
    """Store the optional self-description given after voting. Empty answers store nothing."""
    from feedback.priorities.identity import AGE_BANDS, ETHNICITY_OPTIONS

    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise ValidationError(_("We could not find your ballot. Your vote still counts."))
    text = clean_text(data.get("ethnicity_text"), label=_("how you describe your ethnicity"),
                      max_length=200, field="ethnicity_text")
    options = [o for o in (data.get("ethnicity_options") or []) if o]
    if not set(options) <= set(ETHNICITY_OPTIONS):
        raise ValidationError(_("Choose from the list, or describe yourself in your own "
                                "words."), "ethnicity_options")
    age = data.get("age_band") or ""
    if age and age not in AGE_BANDS:
        raise ValidationError(_("Choose an age band from the list."), "age_band")
    district = normalise_code(data.get("postcode_district") or "")
    if district and not re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?", district):
        raise ValidationError(_("Enter only the first part of your postcode, like B15 or "
                                "BD7."), "postcode_district")
    group = data.get("group") or ""
    if group and group not in {g.value for g in Group}:
        raise ValidationError(_("Choose a group from the list."), "group")
    existing = db.session.scalar(select(VoterDescription).where(
        VoterDescription.ballot_id == ballot.id))
    if db.session.get(PriorityRound, ballot.round_id).phase_at_least(Phase.RESULTS):
        forget_results(ballot.round_id)  # stored counts; an open round's expire soon
    if not (text or options or age or district or group):
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
        return None
    description = existing or VoterDescription(ballot_id=ballot.id)
    description.ethnicity_text = text
    description.ethnicity_options = options
    description.age_band = age
    description.postcode_district = district
    description.group = group
    db.session.add(description)
    db.session.flush()
    return description


# Paper ballots ---------------------------------------------------------------------------

def _clean_paper(round_: PriorityRound, data: dict[str, Any]) -> dict[str, Any]:
    reference = clean_text(data.get("reference"), label=_("the paper's reference number"),
                           max_length=REFERENCE_MAX, required=True, field="reference").upper()
    return {
        "reference": reference,
        "location": clean_text(data.get("location"), label=_("where it was filled in"),
                               max_length=LOCATION_MAX, required=True, field="location"),
        "filled_in_on": (_parse_when(data.get("filled_in_on"), _("the date it was filled in"),
                                     "filled_in_on") or utcnow()).date().isoformat(),
        "code": normalise_code(data.get("code") or ""),
        "choices": clean_choices(round_, data.get("choices") or []),
    }


def enter_paper_ballot(actor: Any, round_: PriorityRound,
                       data: dict[str, Any]) -> PaperBallot:
    """Type in a paper ballot. The first entry waits; a second entry by someone else is
    compared with it: if they agree the ballot is counted, if not it is flagged.
    Organisers and staff of accepted helper organisations may enter them."""
    require_paper_entry(actor, round_)
    check_voting_open(round_)
    cleaned = _clean_paper(round_, data)
    paper = db.session.scalar(select(PaperBallot).where(
        PaperBallot.round_id == round_.id, PaperBallot.reference == cleaned["reference"])
        .with_for_update())
    organisation = _paper_org_of(actor, round_)
    code_hash = hash_code(cleaned["code"]) if cleaned["code"] else None
    if paper is None:
        paper = PaperBallot(round_id=round_.id, reference=cleaned["reference"],
                            location=cleaned["location"], filled_in_on=cleaned["filled_in_on"],
                            organisation_id=getattr(organisation, "id", None),
                            voter_code_hash=code_hash, first_choices=cleaned["choices"],
                            first_entered_by_id=actor.id)
        db.session.add(paper)
        db.session.flush()
        audit.record("priority_paper.entered", actor=actor, organisation=organisation,
                     target=paper, summary=f"{round_.title}: paper ballot "
                     f"{paper.reference} entered (first entry)")
        return paper
    if paper.status != PaperStatus.AWAITING_CHECK:
        raise ValidationError(_("Paper ballot %(ref)s has already been entered twice.",
                                ref=paper.reference), "reference")
    if paper.first_entered_by_id == actor.id:
        raise ValidationError(_("A different person must do the second entry of paper ballot "
                                "%(ref)s, to check the first.", ref=paper.reference),
                              "reference")
    paper.second_choices = cleaned["choices"]
    paper.second_entered_by_id = actor.id
    paper.second_entered_at = utcnow()
    same = (paper.first_choices == cleaned["choices"] and paper.voter_code_hash == code_hash
            and paper.location == cleaned["location"]
            and paper.filled_in_on == cleaned["filled_in_on"])
    if not same:
        paper.status = PaperStatus.MISMATCH
        db.session.flush()
        audit.record("priority_paper.mismatch", actor=actor, organisation=organisation,
                     target=paper, summary=f"{round_.title}: paper ballot {paper.reference} "
                     "entries differ")
        return paper
    if code_hash:
        key = f"code:{_claim_code(round_, cleaned['code'])}"
    else:
        key = f"paper:{paper.reference}"
    ballot, _replaced = _write_ballot(round_, voter_key(round_.id, key), BallotMethod.PAPER,
                                      cleaned["choices"])
    paper.ballot_id = ballot.id
    paper.status = PaperStatus.MATCHED
    db.session.flush()
    audit.record("priority_paper.matched", actor=actor, organisation=organisation,
                 target=paper, summary=f"{round_.title}: paper ballot {paper.reference} "
                 "checked and counted")
    return paper


def clear_second_entry(actor: Any, paper: PaperBallot) -> PaperBallot:
    """After checking the paper, clear a mismatched second entry so it can be typed again."""
    round_ = db.session.get(PriorityRound, paper.round_id)
    require_paper_entry(actor, round_)
    if paper.status != PaperStatus.MISMATCH:
        raise ValidationError(_("Only a paper ballot whose entries differ can be re-entered."))
    paper.second_choices = None
    paper.second_entered_by_id = None
    paper.second_entered_at = None
    paper.status = PaperStatus.AWAITING_CHECK
    db.session.flush()
    audit.record("priority_paper.second_entry_cleared", actor=actor,
                 organisation=_paper_org_of(actor, round_), target=paper,
                 summary=f"{round_.title}: second entry of {paper.reference} cleared")
    return paper


def discard_paper_ballot(actor: Any, paper: PaperBallot) -> None:
    """Discard a paper ballot that was entered wrongly and has not been counted."""
    round_ = db.session.get(PriorityRound, paper.round_id)
    require_paper_entry(actor, round_)
    if paper.status == PaperStatus.MATCHED:
        raise ValidationError(_("This paper ballot has been counted and cannot be removed."))
    audit.record("priority_paper.discarded", actor=actor,
                 organisation=_paper_org_of(actor, round_), target=paper,
                 summary=f"{round_.title}: entries for {paper.reference} discarded")
    db.session.delete(paper)
    db.session.flush()


def paper_ballots(round_: PriorityRound) -> Sequence[PaperBallot]:
    return db.session.scalars(select(PaperBallot).where(PaperBallot.round_id == round_.id)
                              .order_by(PaperBallot.first_entered_at.desc())).all()


# Links from updates -----------------------------------------------------------------------

def linkable_priority(priority_id: int) -> Priority | None:
    """A shortlisted priority in a round that is not a draft: one an update can answer."""
    return db.session.scalar(
        select(Priority).join(PriorityRound, PriorityRound.id == Priority.round_id)
        .where(Priority.id == priority_id, PriorityRound.phase != Phase.DRAFT,
               exists().where(ShortlistEntry.priority_id == Priority.id)))


def priority_choices(none_label: str) -> list[Any]:
    """Choices for the update editor's "research priority this answers" list."""
    rows = db.session.execute(
        select(Priority.id, Priority.title, PriorityRound.title)
        .join(PriorityRound, PriorityRound.id == Priority.round_id)
        .where(PriorityRound.phase != Phase.DRAFT,
               exists().where(ShortlistEntry.priority_id == Priority.id))
        .order_by(PriorityRound.title, Priority.title)).all()
    from feedback.priorities.forms import choice_list

    return choice_list([("", none_label)] + [(pid, f"{title} ({round_title})")
                                             for pid, title, round_title in rows])


def updates_that_followed(priority: Priority) -> list[Any]:
    """Published updates that say they answer this priority, oldest first."""
    from feedback.updates.models import Update, UpdateStatus

    return list(db.session.scalars(
        select(Update).where(Update.answers_priority_id == priority.id,
                             Update.status == UpdateStatus.PUBLISHED)
        .order_by(Update.published_at)))


# Responses -------------------------------------------------------------------------------

def publish_response(actor: Any, priority: Priority, status: ResponseStatus | str,
                     text: str) -> Priority:
    """Say what will happen to a shortlisted priority, and queue an email to each of its
    followers (again, if the response changes)."""
    round_ = priority.round
    require_organiser(actor, round_)
    if not round_.phase_at_least(Phase.RESULTS):
        raise ValidationError(_("Responses are published after voting closes."))
    if not shortlisted_in(priority):
        raise ValidationError(_("Only shortlisted priorities get a response."))
    try:
        status = ResponseStatus(status)
    except ValueError:
        raise ValidationError(_("Choose a response."), "status") from None
    text = clean_text(text, label=_("the response"), max_length=RESPONSE_MAX, field="text",
                      multiline=True, required=True)
    if status == ResponseStatus.NOT_TAKEN_FORWARD and len(text) < 20:
        raise ValidationError(_("Explain in a sentence or two why this priority is not being "
                                "taken forward."), "text")
    priority.response_status = status
    priority.response_text = text
    priority.response_published_at = utcnow()
    db.session.flush()
    audit.record("priority.response_published", actor=actor,
                 organisation=_first_org_of(actor, round_), target=priority,
                 summary=f"Response to {priority.title}: {status.value}")
    notifications.enqueue(NotificationKind.PRIORITY_RESPONSE, priority.id,
                          follower_ids(priority.id), again=True)
    return priority


def follower_ids(priority_id: int) -> Select:
    """The ids of everyone following a priority."""
    return select(PriorityFollower.user_id).where(PriorityFollower.priority_id == priority_id)
