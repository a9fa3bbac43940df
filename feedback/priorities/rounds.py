"""Priority rounds: reading them, creating them and moving them through their phases,
co-organisers, and partners who help with paper ballots."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, load_only, selectinload

from feedback.accounts.models import OrgRole
from feedback.accounts.permissions import PermissionDenied, can_edit_org, org_role
from feedback.audit import services as audit
from feedback.core.caching import forget_pages
from feedback.core.exceptions import found
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError, clean_text, slugify
from feedback.extensions import cache, db
from feedback.organisations.models import Organisation
from feedback.priorities.common import RESULTS_CACHE_KEY, _
from feedback.priorities.models import (
    AREA_MAX,
    MAX_CHOICES_LIMIT,
    NOTE_MAX,
    PHASE_ORDER,
    SCOPE_MAX,
    TITLE_MAX,
    TOPICS_MAX,
    Group,
    InvitationRole,
    InvitationStatus,
    Phase,
    Priority,
    PriorityRound,
    RoundInvitation,
    ShortlistEntry,
    ShortlistVersion,
    StoredResults,
    Suggestion,
    SuggestionStatus,
    VotingMethod,
)

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
    return found(db.session.scalar(statement))


def get_priority(priority_id: int) -> Priority:
    return found(db.session.get(Priority, priority_id))


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


@functools.cache  # built once: building it costs more than running it
def _ballot_round_statement() -> Select:
    published = aliased(ShortlistVersion)
    latest = (select(func.max(published.number)).where(published.round_id == PriorityRound.id)
              .correlate(PriorityRound).scalar_subquery())
    # Only the columns a ballot reads (its checks, its page and the words' lookup): the
    # others are left unloaded (read on first use, as any other attribute).
    return (select(PriorityRound, ShortlistVersion)
            .outerjoin(ShortlistVersion, and_(ShortlistVersion.round_id == PriorityRound.id,
                                              ShortlistVersion.number == latest))
            .options(load_only(PriorityRound.slug, PriorityRound.title, PriorityRound.scope,
                               PriorityRound.phase, PriorityRound.voting_closes_at,
                               PriorityRound.voting_method, PriorityRound.max_choices),
                     load_only(ShortlistVersion.round_id, ShortlistVersion.number),
                     joinedload(ShortlistVersion.entries).load_only(
                         ShortlistEntry.priority_id, ShortlistEntry.title))
            .where(PriorityRound.slug == bindparam("slug")))


def ballot_round(slug: str) -> tuple[PriorityRound, ShortlistVersion | None]:
    """A round for its ballot pages with its current shortlist and the shortlist's
    entries (not their priorities, nor the round's organisations, which a ballot never
    shows), in one query: a ballot is the busiest request in a national round."""
    row = db.session.execute(_ballot_round_statement(), {"slug": slug}).unique().first()
    round_, shortlist = found(row)
    return round_, shortlist


def get_shortlist_version(round_: PriorityRound, number: int) -> ShortlistVersion:
    return found(db.session.scalar(
        select(ShortlistVersion).where(ShortlistVersion.round_id == round_.id,
                                       ShortlistVersion.number == number)))


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


def help_candidates(user: Any, round_: PriorityRound) -> list[Organisation]:
    """The organisations ``user`` is staff of that may ask to help with the round while it
    is open: those not running it, whether or not a colleague has already asked (asking
    again returns that request)."""
    if not getattr(user, "is_authenticated", False) or not help_round_is_open(round_):
        return []
    running = {o.id for o in round_.organisations}
    return sorted((m.organisation for m in user.memberships
                   if m.organisation_id not in running
                   and can_edit_org(user, m.organisation_id)), key=lambda o: o.name)


def help_organisations(user: Any, round_: PriorityRound) -> list[Organisation]:
    """The organisations to offer help for on the round's page: the candidates that have
    not already asked or been accepted (a declined one may ask again)."""
    candidates = help_candidates(user, round_)
    if not candidates:
        return []
    taken = _offered_or_invited(round_)
    return [o for o in candidates if o.id not in taken]


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


def forget_results(round_id: int, pages: bool = False) -> None:
    """Drop a round's stored and cached counts (``results.raw_counts``): its phase or
    its voters' descriptions changed. ``pages``: also every cached page (a phase change
    shows at once; a description, which may come with every ballot, shows when the
    results page's cache runs out)."""
    db.session.execute(delete(StoredResults).where(StoredResults.round_id == round_id))
    cache.delete(RESULTS_CACHE_KEY.format(round_id=round_id))
    if pages:
        forget_pages()
