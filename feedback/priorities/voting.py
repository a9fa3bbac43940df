"""Voting: online and code ballots, code batches, voter descriptions and paper ballots."""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Select,
    Update,
    bindparam,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached

from feedback.accounts.models import User
from feedback.audit import services as audit
from feedback.core.models import utcnow
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.priorities.common import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_UNKNOWN_MESSAGE,
    CODE_USED_MESSAGE,
    MAX_BATCH,
    _,
    format_code,
    hash_code,
    normalise_code,
    voter_key,
)
from feedback.priorities.models import (
    LOCATION_MAX,
    REFERENCE_MAX,
    Ballot,
    BallotChoice,
    BallotCode,
    BallotCodeBatch,
    BallotMethod,
    Group,
    PaperBallot,
    PaperStatus,
    Phase,
    PriorityRound,
    ShortlistVersion,
    VoterDescription,
)
from feedback.priorities.rounds import (
    _first_org_of,
    _paper_org_of,
    _parse_when,
    current_shortlist,
    forget_results,
    require_organiser,
    require_paper_entry,
)

# Voting ----------------------------------------------------------------------------------

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


# The statements every ballot runs, built once per process (building one costs more CPU
# than running it) and run as Core statements on the tables, without the ORM's bulk path.

@functools.cache
def _insert_ballot_statement(dialect_name: str) -> Insert:
    """Insert a ballot unless this person already has one (``ON CONFLICT DO NOTHING``)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    ballots = Ballot.__table__
    return (dialect.insert(ballots)
            .on_conflict_do_nothing(index_elements=["round_id", "voter_key"])
            .returning(ballots.c.id))


@functools.cache
def _claim_code_statement() -> Update:
    """Mark an unused code of the round used, and bind it to the account (if any)."""
    codes = BallotCode.__table__
    return (update(codes)
            .where(codes.c.code_hash == bindparam("hash"),
                   codes.c.round_id == bindparam("round"), codes.c.used_at.is_(None))
            .values(used_at=bindparam("now", type_=codes.c.used_at.type),
                    user_id=bindparam("owner", type_=codes.c.user_id.type))
            .returning(codes.c.code_hash))


@functools.cache
def _insert_choices_statement() -> Insert:
    return insert(BallotChoice.__table__)


def _insert_ballot(round_: PriorityRound, key: str, method: BallotMethod) -> Ballot | None:
    """Insert the ballot row unless this person already has one (one statement, ``ON
    CONFLICT DO NOTHING``: two requests racing to insert cannot both succeed)."""
    now = utcnow()
    ballot_id = db.session.scalar(_insert_ballot_statement(db.engine.dialect.name), {
        "round_id": round_.id, "voter_key": key, "method": method, "cast_at": now})
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
    db.session.execute(_insert_choices_statement(), [  # one statement for all the choices
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
    claimed = db.session.scalar(_claim_code_statement(), {
        "hash": code_hash, "round": round_.id, "now": utcnow(), "owner": owner})
    if claimed is not None:
        return claimed
    _refuse_unless_own(round_, code_hash, owner)
    return code_hash


def _refuse_unless_own(round_: PriorityRound, code_hash: str, owner: int | None) -> None:
    """For a code that could not be claimed: say whether it is unknown or used, unless
    it is bound to ``owner``'s account (they may use it again)."""
    used = db.session.execute(select(BallotCode.user_id).where(
        BallotCode.code_hash == code_hash, BallotCode.round_id == round_.id)).first()
    if used is None:
        raise ValidationError(CODE_UNKNOWN_MESSAGE, "code")
    if owner is None or used.user_id != owner:
        raise ValidationError(CODE_USED_MESSAGE, "code")


@functools.cache
def _code_ballot_statement() -> Select:
    """PostgreSQL: claim an unused code, insert its ballot and the choices, in one
    statement (data-modifying CTEs). As in the three statements it stands for, the
    claim's row lock makes a racing second use of the code wait, then find it used
    (nothing is claimed, so nothing is inserted). Returns (code hash claimed, ballot id)."""
    codes, ballots, choices = BallotCode.__table__, Ballot.__table__, BallotChoice.__table__
    now = bindparam("now", type_=ballots.c.cast_at.type)
    round_id = bindparam("round", type_=ballots.c.round_id.type)
    claimed = (update(codes)
               .where(codes.c.code_hash == bindparam("hash"), codes.c.round_id == round_id,
                      codes.c.used_at.is_(None))
               .values(used_at=now, user_id=None).returning(codes.c.code_hash).cte("claimed"))
    ballot = (postgresql.insert(ballots)
              .from_select(["round_id", "voter_key", "method", "cast_at"], select(
                  round_id, bindparam("key", type_=ballots.c.voter_key.type),
                  bindparam("method", type_=ballots.c.method.type), now).select_from(claimed))
              .on_conflict_do_nothing(index_elements=["round_id", "voter_key"])
              .returning(ballots.c.id).cte("ballot"))
    chosen = func.unnest(bindparam("ids", type_=postgresql.ARRAY(Integer))).table_valued(
        "priority_id", with_ordinality="rank").render_derived(name="chosen")
    inserted = (insert(choices)
                .from_select(["ballot_id", "priority_id", "rank"],
                             select(ballot.c.id, chosen.c.priority_id, chosen.c.rank)
                             .select_from(ballot).join(chosen, true()))
                .cte("choices"))
    return select(select(claimed.c.code_hash).scalar_subquery(),
                  select(ballot.c.id).scalar_subquery()).add_cte(inserted)


def _cast_with_unused_code(round_: PriorityRound, code: str, chosen: list[int]) -> Ballot:
    """A code ballot without an account, on PostgreSQL, in one statement. A code that
    cannot be used is explained as on other databases."""
    if len(normalise_code(code)) != CODE_LENGTH:
        raise ValidationError(CODE_UNKNOWN_MESSAGE, "code")
    code_hash = hash_code(code)
    key = voter_key(round_.id, f"code:{code_hash}")
    now = utcnow()
    claimed, ballot_id = db.session.execute(_code_ballot_statement(), {
        "hash": code_hash, "round": round_.id, "now": now, "key": key,
        "method": BallotMethod.CODE, "ids": chosen}).one()
    if claimed is None:
        _refuse_unless_own(round_, code_hash, None)  # raises: unknown, or used
    if ballot_id is None:  # the code's own ballot exists: it was used, as a paper's code
        raise ValidationError(CODE_USED_MESSAGE, "code")
    ballot = Ballot(id=ballot_id, round_id=round_.id, voter_key=key, method=BallotMethod.CODE,
                    cast_at=now, changed_at=None)
    make_transient_to_detached(ballot)  # the row as inserted, without reading it back
    db.session.add(ballot)
    return ballot


def code_ballot_is_one_statement(user: Any = None) -> bool:
    """Whether ``cast_code_ballot`` writes with one statement (a code without an account,
    on PostgreSQL), so that its request needs no transaction around it."""
    return (not getattr(user, "is_authenticated", False)
            and db.engine.dialect.name == "postgresql")


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
    if code_ballot_is_one_statement(user):
        return _cast_with_unused_code(round_, code, chosen), False
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
