"""Updates: a trust telling a community what its patient data led to.

An update names the datasets it used and the services it changed, carries the fields that
data-use registers publish (purpose, legal basis, national data opt-out), and keeps every
edit made after publishing as a public revision.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import enum_column
from feedback.core.i18n import lazy_text
from feedback.core.models import NOT_PERSONAL, UTCDateTime, utcnow
from feedback.extensions import db

if TYPE_CHECKING:
    from feedback.accounts.models import User
    from feedback.organisations.models import Dataset, Organisation, Service
    from feedback.priorities.models import Priority

TITLE_MAX = 200
SLUG_MAX = 80
SUMMARY_MAX = 300
BODY_MAX = 50_000
LONG_TEXT_MAX = 5_000
LEGAL_BASIS_MAX = 1_000
TERM_MAX = 80
URL_MAX = 500
LINK_TITLE_MAX = 200
REASON_MAX = 2_000
QUESTION_MAX = 2_000
ANSWER_MAX = 5_000
MAX_EVIDENCE_LINKS = 20
MAX_TERMS = 20
MAX_ID = 2_147_483_647  # integer primary keys (32-bit on PostgreSQL)


class UpdateKind(enum.StrEnum):
    FINDING = "finding"
    SERVICE_CHANGE = "service_change"
    DECISION = "decision"
    RESEARCH_RESULT = "research_result"


KIND_LABELS = {
    UpdateKind.FINDING: _l("Finding"),
    UpdateKind.SERVICE_CHANGE: _l("Change to a service"),
    UpdateKind.DECISION: _l("Decision"),
    UpdateKind.RESEARCH_RESULT: _l("Research result"),
}


class UpdateStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


STATUS_LABELS = {
    UpdateStatus.DRAFT: _l("Draft"),
    UpdateStatus.PUBLISHED: _l("Published"),
    UpdateStatus.WITHDRAWN: _l("Withdrawn"),
}


class OptOutApplied(enum.StrEnum):
    YES = "yes"
    NO = "no"
    NOT_APPLICABLE = "not_applicable"


OPT_OUT_LABELS = {
    OptOutApplied.YES: _l("Yes, national data opt-outs were applied"),
    OptOutApplied.NO: _l("No, national data opt-outs were not applied"),
    OptOutApplied.NOT_APPLICABLE: _l("Not applicable (for example, anonymised data or "
                                     "consent)"),
}


class TermKind(enum.StrEnum):
    TOPIC = "topic"
    AREA = "area"
    COMMUNITY = "community"  # free-text "who this is for" tags


update_datasets = Table(
    "update_datasets", db.metadata,
    Column("update_id", ForeignKey("updates.id", ondelete="CASCADE"), primary_key=True),
    Column("dataset_id", ForeignKey("datasets.id", ondelete="RESTRICT"), primary_key=True,
           index=True),
)

update_services = Table(
    "update_services", db.metadata,
    Column("update_id", ForeignKey("updates.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="RESTRICT"), primary_key=True,
           index=True),
)

update_terms = Table(
    "update_terms", db.metadata,
    Column("update_id", ForeignKey("updates.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("terms.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class Term(db.Model):
    """A topic ("Sickle cell"), an area ("Birmingham") or a community tag ("Black
    Caribbean families"). Made on first use, matched by ``kind`` and ``slug``. A topic an
    editor typed is a suggestion (``approved`` false) until a moderator approves it: see
    ``feedback.updates.topics``."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("kind", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TermKind] = mapped_column(enum_column(TermKind, "term_kind"))
    slug: Mapped[str] = mapped_column(String(SLUG_MAX))
    name: Mapped[str] = mapped_column(String(TERM_MAX), info=NOT_PERSONAL)
    approved: Mapped[bool] = mapped_column(default=True, server_default=true())


class Update(db.Model):
    """A "your data led to this" update. Drafts are visible only to the owning
    organisation's editors; withdrawn updates stay visible with the public reason."""

    __tablename__ = "updates"
    __table_args__ = (
        # The public list: newest published first, walked with a keyset cursor.
        Index("ix_updates_status_published", "status", "published_at", "id"),
        Index("ix_updates_organisation_status", "organisation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"))
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    summary: Mapped[str] = mapped_column(String(SUMMARY_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[UpdateKind] = mapped_column(enum_column(UpdateKind, "update_kind"))
    what_changed: Mapped[str] = mapped_column(Text, default="")
    who_benefits: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    opt_out_applied: Mapped[OptOutApplied] = mapped_column(
        enum_column(OptOutApplied, "opt_out_applied"), default=OptOutApplied.NOT_APPLICABLE)
    content_checked_on: Mapped[date | None] = mapped_column(Date)
    next_check_due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[UpdateStatus] = mapped_column(enum_column(UpdateStatus, "update_status"),
                                                 default=UpdateStatus.DRAFT)
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")
    # The research priority this update answers (priorities domain).
    answers_priority_id: Mapped[int | None] = mapped_column(
        ForeignKey("priorities.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()
    answers_priority: Mapped[Priority | None] = relationship()
    datasets: Mapped[list[Dataset]] = relationship(secondary=update_datasets,
                                                   order_by="Dataset.name")
    services: Mapped[list[Service]] = relationship(secondary=update_services,
                                                   order_by="Service.name")
    terms: Mapped[list[Term]] = relationship(secondary=update_terms, order_by="Term.name")
    evidence_links: Mapped[list[EvidenceLink]] = relationship(
        back_populates="update", cascade="all, delete-orphan",
        order_by="EvidenceLink.position")
    revisions: Mapped[list[UpdateRevision]] = relationship(
        back_populates="update", cascade="all, delete-orphan",
        order_by="UpdateRevision.number.desc()")

    def _terms(self, kind: TermKind) -> list[Term]:
        return [term for term in self.terms if term.kind == kind]

    @property
    def topics(self) -> list[Term]:
        """The update's topics that are on the curated list (what readers see)."""
        return [term for term in self._terms(TermKind.TOPIC) if term.approved]

    @property
    def suggested_topics(self) -> list[Term]:
        """Topics its editor suggested that no moderator has approved yet."""
        return [term for term in self._terms(TermKind.TOPIC) if not term.approved]

    @property
    def areas(self) -> list[Term]:
        return self._terms(TermKind.AREA)

    @property
    def community_tags(self) -> list[Term]:
        return self._terms(TermKind.COMMUNITY)

    @property
    def kind_label(self) -> str:
        return lazy_text(KIND_LABELS[self.kind])

    @property
    def status_label(self) -> str:
        return lazy_text(STATUS_LABELS[self.status])

    @property
    def opt_out_label(self) -> str:
        return lazy_text(OPT_OUT_LABELS[self.opt_out_applied])

    @property
    def is_published(self) -> bool:
        return self.status == UpdateStatus.PUBLISHED

    @property
    def is_withdrawn(self) -> bool:
        return self.status == UpdateStatus.WITHDRAWN

    @property
    def is_draft(self) -> bool:
        return self.status == UpdateStatus.DRAFT


class EvidenceLink(db.Model):
    """A link to the evidence behind an update: a paper, a report, a dashboard."""

    __tablename__ = "update_evidence_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(LINK_TITLE_MAX), default="")
    url: Mapped[str] = mapped_column(String(URL_MAX))

    update: Mapped[Update] = relationship(back_populates="evidence_links")


class UpdateRevision(db.Model):
    """An edit made after publishing: the public "updated on ...: what changed" note and
    a snapshot of the update as it was before the edit."""

    __tablename__ = "update_revisions"
    __table_args__ = (UniqueConstraint("update_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"))
    number: Mapped[int]
    change_note: Mapped[str] = mapped_column(Text)
    previous: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    update: Mapped[Update] = relationship(back_populates="revisions")


class FollowTarget(enum.StrEnum):
    ORGANISATION = "organisation"
    DATASET = "dataset"
    SERVICE = "service"
    TOPIC = "topic"


class Follow(db.Model):
    """A signed-in person follows an organisation, dataset, service or topic, and is
    emailed when a matching update is published."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target_id"),
        Index("ix_follows_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_type: Mapped[FollowTarget] = mapped_column(enum_column(FollowTarget,
                                                                  "follow_target"))
    target_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class QuestionStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for moderation
    PUBLISHED = "published"
    REJECTED = "rejected"
    HIDDEN = "hidden"  # reported too often; waiting for a moderator


class Question(db.Model):
    """A community member's question on an update, shown once moderated."""

    __tablename__ = "update_questions"
    __table_args__ = (Index("ix_update_questions_update_status", "update_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[QuestionStatus] = mapped_column(
        enum_column(QuestionStatus, "question_status"), default=QuestionStatus.PENDING,
        index=True)
    report_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    update: Mapped[Update] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    answer: Mapped[Answer | None] = relationship(back_populates="question",
                                                 cascade="all, delete-orphan")


class AnswerStatus(enum.StrEnum):
    PUBLISHED = "published"
    HIDDEN = "hidden"


class Answer(db.Model):
    """The owning organisation's public answer to a question."""

    __tablename__ = "update_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("update_questions.id", ondelete="CASCADE"), unique=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[AnswerStatus] = mapped_column(enum_column(AnswerStatus, "answer_status"),
                                                 default=AnswerStatus.PUBLISHED)
    report_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship(back_populates="answer")
    author: Mapped[User | None] = relationship()


class ReportReason(enum.StrEnum):
    OFFENSIVE = "offensive"
    PERSONAL_INFORMATION = "personal_information"
    SPAM = "spam"
    MISLEADING = "misleading"
    OTHER = "other"


REPORT_REASON_LABELS = {
    ReportReason.OFFENSIVE: _l("It is offensive or abusive"),
    ReportReason.PERSONAL_INFORMATION: _l("It shares someone's personal information"),
    ReportReason.SPAM: _l("It is spam or advertising"),
    ReportReason.MISLEADING: _l("It is misleading about health or care"),
    ReportReason.OTHER: _l("Something else"),
}


class ReportTarget(enum.StrEnum):
    QUESTION = "question"
    ANSWER = "answer"


class Report(db.Model):
    """One person's report of a question or answer. One report per person per item."""

    __tablename__ = "update_reports"
    __table_args__ = (UniqueConstraint("target_type", "target_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[ReportTarget] = mapped_column(enum_column(ReportTarget,
                                                                  "report_target"))
    target_id: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[ReportReason] = mapped_column(enum_column(ReportReason, "report_reason"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
