from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.accounts.models import Membership, enum_column
from feedback.core.i18n import lazy_text
from feedback.core.models import NOT_PERSONAL, UTCDateTime, utcnow
from feedback.extensions import db

NAME_MAX = 200
SLUG_MAX = 80
AREA_MAX = 120
URL_MAX = 500
DESCRIPTION_MAX = 5000


class OrganisationKind(enum.StrEnum):
    NHS = "nhs"
    VCSE = "vcse"
    RESEARCH = "research"


KIND_LABELS = {
    OrganisationKind.NHS: _l("NHS trust or other NHS body"),
    OrganisationKind.VCSE: _l("Voluntary and community organisation (VCSE partner)"),
    OrganisationKind.RESEARCH: _l("Research body"),
}


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, "org_kind"))
    name: Mapped[str] = mapped_column(String(NAME_MAX), info=NOT_PERSONAL)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    ods_code: Mapped[str | None] = mapped_column(String(10))
    area: Mapped[str] = mapped_column(String(AREA_MAX), default="")
    website: Mapped[str] = mapped_column(String(URL_MAX), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        return lazy_text(KIND_LABELS[self.kind])


class Dataset(db.Model):
    """A source of patient data, for example Hospital Episode Statistics or a trust's
    patient record system. ``organisation`` maintains the entry; ``custodian`` holds it."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    custodian_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    custodian_name: Mapped[str] = mapped_column(String(NAME_MAX), default="",
                                                info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(String(NAME_MAX), info=NOT_PERSONAL)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(URL_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    custodian: Mapped[Organisation | None] = relationship(foreign_keys=[custodian_id])

    @property
    def custodian_label(self) -> str:
        if self.custodian is not None:
            return self.custodian.name
        return self.custodian_name or self.organisation.name


class Service(db.Model):
    """A health or care service that updates can say changed."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX), info=NOT_PERSONAL)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    area: Mapped[str] = mapped_column(String(AREA_MAX), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
