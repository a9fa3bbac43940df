from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.core.models import UTCDateTime, personal, utcnow
from feedback.extensions import db

if TYPE_CHECKING:
    from feedback.organisations.models import Organisation

EMAIL_MAX = 254
DISPLAY_NAME_MAX = 60

# Every column holding an email address, phone number or a person's name says in
# ``info["personal"]`` when it is erased (or ``False`` when the name is not a person's);
# tests/test_personal_data.py fails for a column without it. docs/privacy.md lists them.
PERSONAL_ACCOUNT = personal("Erased when the account is deleted.")


class PlatformRole(enum.StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"
    ADMIN = "admin"


class OrgRole(enum.StrEnum):
    EDITOR = "editor"
    ADMIN = "admin"


ORG_ROLE_LABELS = {OrgRole.EDITOR: _l("Editor"), OrgRole.ADMIN: _l("Organisation admin")}
PLATFORM_ROLE_LABELS = {PlatformRole.MEMBER: _l("Community member"),
                        PlatformRole.MODERATOR: _l("Moderator"),
                        PlatformRole.ADMIN: _l("Platform admin")}


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """A string-valued enum column, stored as VARCHAR with a CHECK constraint."""
    return Enum(enum_class, name=name, native_enum=False, create_constraint=True,
                values_callable=lambda members: [m.value for m in members], length=20)


class User(UserMixin, db.Model):
    """A person. ``email`` and ``display_name`` are erased when the account is deleted;
    their contributions stay and are shown as by a "former member"."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), unique=True,
                                              info=PERSONAL_ACCOUNT)
    display_name: Mapped[str | None] = mapped_column(String(DISPLAY_NAME_MAX),
                                                     info=PERSONAL_ACCOUNT)
    language: Mapped[str] = mapped_column(String(16), default="en")
    role: Mapped[PlatformRole] = mapped_column(enum_column(PlatformRole, "platform_role"),
                                               default=PlatformRole.MEMBER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Changes when the person signs out everywhere or is deleted, ending old sessions.
    session_version: Mapped[int] = mapped_column(default=1)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def public_name(self) -> str:
        """The name shown to others: pseudonymous, never the email address."""
        if self.is_deleted or not self.display_name:
            return str(_l("Former member"))
        return self.display_name

    @property
    def is_admin(self) -> bool:
        return self.role == PlatformRole.ADMIN

    @property
    def is_moderator(self) -> bool:
        return self.role in (PlatformRole.MODERATOR, PlatformRole.ADMIN)

    def membership_of(self, organisation_id: int) -> Membership | None:
        return next((m for m in self.memberships if m.organisation_id == organisation_id), None)


class Membership(db.Model):
    """A person's role in one organisation."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[OrgRole] = mapped_column(enum_column(OrgRole, "org_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class SignInToken(db.Model):
    """A single-use sign-in link. Only the SHA-256 of the token is stored."""

    __tablename__ = "sign_in_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), info=personal(
        "Deleted with the row RETENTION_SIGN_IN_DAYS after the link was made, and when the "
        "account with that address is deleted."))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_url: Mapped[str | None] = mapped_column(String(300))


class Invitation(db.Model):
    """An org admin's invitation to join their organisation. Only the token hash is kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), info=personal(
        "Erased when the invitation is accepted, RETENTION_SIGN_IN_DAYS after it expires, "
        "and when the account with that address is deleted."))
    role: Mapped[OrgRole] = mapped_column(enum_column(OrgRole, "org_role"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
