"""Research priority rounds (the James Lind Alliance method): suggestions, a versioned
shortlist, ballots cast online, with one-time codes or on paper, and responses."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import enum_column
from feedback.core.models import UTCDateTime, utcnow
from feedback.extensions import db

if TYPE_CHECKING:
    from feedback.accounts.models import User
    from feedback.organisations.models import Organisation

TITLE_MAX = 200
SCOPE_MAX = 500
TOPICS_MAX = 300
AREA_MAX = 120
QUESTION_MAX = 500
WHY_MAX = 2000
REASON_MAX = 1000
DESCRIPTION_MAX = 2000
RESPONSE_MAX = 5000
REFERENCE_MAX = 40
LOCATION_MAX = 200
NOTE_MAX = 500
MAX_CHOICES_LIMIT = 20


class Phase(enum.StrEnum):
    DRAFT = "draft"
    SUGGESTIONS = "suggestions"
    REVIEW = "review"
    VOTING = "voting"
    RESULTS = "results"
    RESPONSES = "responses"


PHASE_ORDER = list(Phase)
PHASE_LABELS = {
    Phase.DRAFT: _l("Being prepared"),
    Phase.SUGGESTIONS: _l("Suggestions open"),
    Phase.REVIEW: _l("Review and shortlist"),
    Phase.VOTING: _l("Voting"),
    Phase.RESULTS: _l("Results"),
    Phase.RESPONSES: _l("Responses"),
}


class VotingMethod(enum.StrEnum):
    CHOOSE = "choose"
    RANK = "rank"


VOTING_METHOD_LABELS = {
    VotingMethod.CHOOSE: _l("Choose up to N priorities (each choice counts once)"),
    VotingMethod.RANK: _l("Rank up to N priorities (points for each place)"),
}


class Group(enum.StrEnum):
    PATIENTS = "patients"
    CARERS = "carers"
    COMMUNITY = "community"
    STAFF = "staff"


GROUP_LABELS = {
    Group.PATIENTS: _l("Patients"),
    Group.CARERS: _l("Carers"),
    Group.COMMUNITY: _l("Community members"),
    Group.STAFF: _l("Health and care staff"),
}


class SuggestionStatus(enum.StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    MERGED = "merged"
    OUT_OF_SCOPE = "out_of_scope"
    ANSWERED = "answered"
    REMOVED = "removed"


SUGGESTION_STATUS_LABELS = {
    SuggestionStatus.PENDING: _l("Waiting for review"),
    SuggestionStatus.PUBLISHED: _l("Accepted"),
    SuggestionStatus.MERGED: _l("Merged with a similar question"),
    SuggestionStatus.OUT_OF_SCOPE: _l("Out of scope"),
    SuggestionStatus.ANSWERED: _l("Already answered by research"),
    SuggestionStatus.REMOVED: _l("Removed by moderators"),
}


class BallotMethod(enum.StrEnum):
    ONLINE = "online"
    CODE = "code"
    PAPER = "paper"


BALLOT_METHOD_LABELS = {
    BallotMethod.ONLINE: _l("Online"),
    BallotMethod.CODE: _l("Ballot code"),
    BallotMethod.PAPER: _l("Paper"),
}


class PaperStatus(enum.StrEnum):
    AWAITING_CHECK = "awaiting_check"
    MATCHED = "matched"
    MISMATCH = "mismatch"


PAPER_STATUS_LABELS = {
    PaperStatus.AWAITING_CHECK: _l("Waiting for a second person to check"),
    PaperStatus.MATCHED: _l("Checked and counted"),
    PaperStatus.MISMATCH: _l("The two entries differ"),
}


class ResponseStatus(enum.StrEnum):
    WILL_BE_RESEARCHED = "will_research"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_TAKEN_FORWARD = "not_taken"


RESPONSE_LABELS = {
    ResponseStatus.WILL_BE_RESEARCHED: _l("Will be researched"),
    ResponseStatus.IN_PROGRESS: _l("Research in progress"),
    ResponseStatus.DONE: _l("Research done"),
    ResponseStatus.NOT_TAKEN_FORWARD: _l("Not taken forward"),
}


round_organisations = Table(
    "priority_round_organisations",
    db.metadata,
    Column("round_id", ForeignKey("priority_rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"),
           primary_key=True),
)


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class InvitationRole(enum.StrEnum):
    """What an organisation joins a round to do, and so who answers."""
    ORGANISER = "organiser"  # invited by the round's organisers; its own admin answers
    PAPER_HELPER = "paper_helper"  # asked to help with paper ballots; an organiser answers


class PriorityRound(db.Model):
    """One priority-setting exercise, run by one or more organisations."""

    __tablename__ = "priority_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    scope: Mapped[str] = mapped_column(String(SCOPE_MAX))
    topics: Mapped[str] = mapped_column(String(TOPICS_MAX), default="")
    area: Mapped[str] = mapped_column(String(AREA_MAX), default="")
    phase: Mapped[Phase] = mapped_column(enum_column(Phase, "priority_phase"),
                                         default=Phase.DRAFT)
    suggestions_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responses_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the round first reached its results, whatever dates were planned: the start of
    # "days to respond" on the accountability pages.
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_method: Mapped[VotingMethod] = mapped_column(
        enum_column(VotingMethod, "voting_method"), default=VotingMethod.CHOOSE)
    max_choices: Mapped[int] = mapped_column(default=3)
    hide_counts: Mapped[bool] = mapped_column(default=True)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    # The organisations running the round: the one that started it, and each invited one
    # once an admin of it has accepted (``RoundInvitation``). Only these are listed,
    # counted in accountability figures and given organisers' powers.
    organisations: Mapped[list[Organisation]] = relationship(secondary=round_organisations,
                                                             order_by="Organisation.name")

    @property
    def phase_label(self) -> str:
        return str(PHASE_LABELS[self.phase])

    @property
    def topic_list(self) -> list[str]:
        return [t.strip() for t in self.topics.split(",") if t.strip()]

    @property
    def group_labels(self) -> list[str]:
        return [str(GROUP_LABELS[Group(g)]) for g in self.groups or []]

    def phase_at_least(self, phase: Phase) -> bool:
        return PHASE_ORDER.index(self.phase) >= PHASE_ORDER.index(phase)

    @property
    def results_visible(self) -> bool:
        """Counts are published after voting, or during it when the round shows them."""
        return self.phase_at_least(Phase.RESULTS) or (
            self.phase == Phase.VOTING and not self.hide_counts)


class RoundInvitation(db.Model):
    """An organisation joining a round, once the other side agrees.

    ``role`` organiser: the round's organisers asked it to run the round with them; it
    becomes a co-organiser only when one of its admins accepts, and until then it is not
    named anywhere public. ``role`` paper_helper: its own staff asked to help collect paper
    ballots (``note`` says how); once an organiser of the round accepts, its staff may
    enter paper ballots for that round, and nothing else, and it is named on the round as
    a helper."""

    __tablename__ = "priority_round_invitations"
    __table_args__ = (UniqueConstraint("round_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("priority_rounds.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    invited_by_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"))
    status: Mapped[InvitationStatus] = mapped_column(
        enum_column(InvitationStatus, "round_invitation_status"),
        default=InvitationStatus.PENDING)
    role: Mapped[InvitationRole] = mapped_column(
        enum_column(InvitationRole, "round_invitation_role"),
        default=InvitationRole.ORGANISER, server_default=InvitationRole.ORGANISER.value)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[PriorityRound] = relationship()
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    invited_by_organisation: Mapped[Organisation | None] = relationship(
        foreign_keys=[invited_by_organisation_id])


class Suggestion(db.Model):
    """A question someone wants research to answer."""

    __tablename__ = "priority_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("priority_rounds.id", ondelete="CASCADE"),
                                          index=True)
    question: Mapped[str] = mapped_column(String(QUESTION_MAX))
    why_it_matters: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SuggestionStatus] = mapped_column(
        enum_column(SuggestionStatus, "suggestion_status"), default=SuggestionStatus.PENDING)
    public_reason: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("priority_suggestions.id", ondelete="SET NULL"))
    priority_id: Mapped[int | None] = mapped_column(
        ForeignKey("priorities.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[PriorityRound] = relationship()
    suggesters: Mapped[list[Suggester]] = relationship(back_populates="suggestion",
                                                       cascade="all, delete-orphan")
    followers: Mapped[list[SuggestionFollower]] = relationship(cascade="all, delete-orphan")
    merged_into: Mapped[Suggestion | None] = relationship(remote_side=[id])

    @property
    def status_label(self) -> str:
        return str(SUGGESTION_STATUS_LABELS[self.status])

    @property
    def on_behalf(self) -> bool:
        return any(s.on_behalf for s in self.suggesters)


class Suggester(db.Model):
    """Who made a suggestion: a signed-in person, or someone at a community event whose
    question partner staff entered on their behalf (``user_id`` is then empty)."""

    __tablename__ = "priority_suggesters"

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("priority_suggestions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    on_behalf: Mapped[bool] = mapped_column(default=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    entered_for_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"))
    event: Mapped[str] = mapped_column(String(LOCATION_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    suggestion: Mapped[Suggestion] = relationship(back_populates="suggesters")
    entered_for_organisation: Mapped[Organisation | None] = relationship()


class SuggestionFollower(db.Model):
    __tablename__ = "priority_suggestion_followers"
    __table_args__ = (UniqueConstraint("suggestion_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("priority_suggestions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class Priority(db.Model):
    """A research question on a shortlist, in plain English, and the organisers' response."""

    __tablename__ = "priorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("priority_rounds.id", ondelete="CASCADE"),
                                          index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    response_status: Mapped[ResponseStatus | None] = mapped_column(
        enum_column(ResponseStatus, "priority_response"))
    response_text: Mapped[str] = mapped_column(Text, default="")
    response_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[PriorityRound] = relationship()
    suggestions: Mapped[list[Suggestion]] = relationship(
        foreign_keys=[Suggestion.priority_id], order_by=Suggestion.created_at,
        overlaps="priority")
    followers: Mapped[list[PriorityFollower]] = relationship(cascade="all, delete-orphan")

    @property
    def response_label(self) -> str:
        return str(RESPONSE_LABELS[self.response_status]) if self.response_status else ""


class PriorityFollower(db.Model):
    __tablename__ = "priority_followers"
    __table_args__ = (UniqueConstraint("priority_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    priority_id: Mapped[int] = mapped_column(ForeignKey("priorities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)

    user: Mapped[User] = relationship()


class ShortlistVersion(db.Model):
    """A published shortlist. Each publication adds a version; earlier ones stay."""

    __tablename__ = "priority_shortlist_versions"
    __table_args__ = (UniqueConstraint("round_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("priority_rounds.id", ondelete="CASCADE"))
    number: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    entries: Mapped[list[ShortlistEntry]] = relationship(
        cascade="all, delete-orphan", order_by="ShortlistEntry.position")


class ShortlistEntry(db.Model):
    """A priority as worded in one shortlist version."""

    __tablename__ = "priority_shortlist_entries"
    __table_args__ = (UniqueConstraint("version_id", "priority_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("priority_shortlist_versions.id", ondelete="CASCADE"))
    priority_id: Mapped[int] = mapped_column(ForeignKey("priorities.id", ondelete="CASCADE"),
                                             index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text, default="")

    priority: Mapped[Priority] = relationship()


class BallotCodeBatch(db.Model):
    __tablename__ = "priority_code_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("priority_rounds.id", ondelete="CASCADE"),
                                          index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(LOCATION_MAX), default="")
    size: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()


class BallotCode(db.Model):
    """A one-time ballot code. Only its hash is kept."""

    __tablename__ = "priority_ballot_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("priority_rounds.id", ondelete="CASCADE"),
                                          index=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("priority_code_batches.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The account signed in when the code was first used: the code is theirs from then on.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Ballot(db.Model):
    """One person's ballot in one round. The unique (round, voter key) pair is what makes
    it one per person, however they vote."""

    __tablename__ = "priority_ballots"
    __table_args__ = (UniqueConstraint("round_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("priority_rounds.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(64))
    method: Mapped[BallotMethod] = mapped_column(enum_column(BallotMethod, "ballot_method"))
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    choices: Mapped[list[BallotChoice]] = relationship(
        cascade="all, delete-orphan", order_by="BallotChoice.rank")


class BallotChoice(db.Model):
    __tablename__ = "priority_ballot_choices"
    __table_args__ = (UniqueConstraint("ballot_id", "priority_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("priority_ballots.id", ondelete="CASCADE"),
                                           index=True)
    priority_id: Mapped[int] = mapped_column(ForeignKey("priorities.id", ondelete="CASCADE"),
                                             index=True)
    rank: Mapped[int]


class VoterDescription(db.Model):
    """What a voter chose to say about themselves. Only ever counted, never shown."""

    __tablename__ = "priority_voter_descriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("priority_ballots.id", ondelete="CASCADE"), unique=True)
    ethnicity_text: Mapped[str] = mapped_column(String(200), default="")
    ethnicity_options: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_band: Mapped[str] = mapped_column(String(20), default="")
    postcode_district: Mapped[str] = mapped_column(String(4), default="")
    group: Mapped[str] = mapped_column(String(20), default="")


class PaperBallot(db.Model):
    """A paper ballot typed in by partner staff, then typed in again by a second person.
    It is counted only when both entries agree."""

    __tablename__ = "priority_paper_ballots"
    __table_args__ = (UniqueConstraint("round_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("priority_rounds.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX))
    location: Mapped[str] = mapped_column(String(LOCATION_MAX), default="")
    filled_in_on: Mapped[str] = mapped_column(String(10), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"))
    voter_code_hash: Mapped[str | None] = mapped_column(String(64))
    first_choices: Mapped[list[Any]] = mapped_column(JSON, default=list)
    first_entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    first_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    second_choices: Mapped[list[Any] | None] = mapped_column(JSON)
    second_entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    second_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[PaperStatus] = mapped_column(enum_column(PaperStatus, "paper_status"),
                                                default=PaperStatus.AWAITING_CHECK)
    ballot_id: Mapped[int | None] = mapped_column(
        ForeignKey("priority_ballots.id", ondelete="SET NULL"))

    first_entered_by: Mapped[User | None] = relationship(foreign_keys=[first_entered_by_id])
    second_entered_by: Mapped[User | None] = relationship(foreign_keys=[second_entered_by_id])
    organisation: Mapped[Organisation | None] = relationship()

    @property
    def status_label(self) -> str:
        return str(PAPER_STATUS_LABELS[self.status])


class StoredResults(db.Model):
    """A closed round's raw counts, worked out once (``feedback.priorities.results``).
    They are language-neutral and unsuppressed; suppression is applied when shown."""

    __tablename__ = "priority_stored_results"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("priority_rounds.id", ondelete="CASCADE"), primary_key=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
