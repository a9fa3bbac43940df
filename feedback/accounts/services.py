"""Account operations. They ``flush()``; the request, command or job commits."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from feedback.accounts.models import (
    DISPLAY_NAME_MAX,
    ORG_ROLE_LABELS,
    Invitation,
    Membership,
    OrgRole,
    PlatformRole,
    SignInToken,
    User,
)
from feedback.accounts.permissions import require_admin, require_org_admin
from feedback.audit import services as audit
from feedback.core.languages import Language, get_language, source_language
from feedback.core.mail import send_template_email_after_commit
from feedback.core.models import utcnow
from feedback.core.redirects import safe_next
from feedback.core.tokens import hash_token, new_token
from feedback.core.urls import external_url
from feedback.core.validation import ValidationError, clean_email, clean_text
from feedback.extensions import db

INVITATION_DAYS = 14

_ADJECTIVES = ("Amber", "Bright", "Calm", "Clear", "Coral", "Golden", "Green", "Indigo",
               "Kind", "Quiet", "Silver", "Steady", "Sunny", "Swift", "Warm", "Wise")
_NOUNS = ("Baobab", "Cedar", "Crane", "Falcon", "Heron", "Lotus", "Maple", "Mango",
          "Oak", "Otter", "Robin", "Saffron", "Swallow", "Tamarind", "Willow", "Wren")


class LinkProblem(Exception):
    """A sign-in or invitation link that cannot be used. ``reason`` is used/expired/invalid."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def pseudonym() -> str:
    """A friendly display name that says nothing about who the person is."""
    return (f"{secrets.choice(_ADJECTIVES)} {secrets.choice(_NOUNS)} "
            f"{secrets.randbelow(900) + 100}")


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.lower()))


def create_user(email: str, role: PlatformRole = PlatformRole.MEMBER,
                display_name: str | None = None, language: str = "en",
                confirmed: bool = True) -> User:
    """Create an account (used by sign-in, the CLI and the demo seed)."""
    email = clean_email(email)
    if get_user_by_email(email) is not None:
        raise ValidationError(_("An account with that email address already exists."), "email")
    user = User(
        email=email,
        role=PlatformRole(role),
        display_name=clean_text(display_name, label=_l("a display name"),
                                max_length=DISPLAY_NAME_MAX) or pseudonym(),
        language=language,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def request_sign_in(email: str, next_url: str | None = None) -> None:
    """Email a single-use sign-in link. The caller shows the same page whether or not
    the address has an account, so addresses cannot be discovered."""
    email = clean_email(email)
    token, token_hash = new_token()
    minutes = current_app.config["MAGIC_LINK_MINUTES"]
    db.session.add(SignInToken(
        token_hash=token_hash, email=email, expires_at=utcnow() + timedelta(minutes=minutes),
        next_url=safe_next(next_url),
    ))
    db.session.flush()
    existing = get_user_by_email(email)
    send_template_email_after_commit(
        email,
        _("Your sign-in link for %(service)s", service=current_app.config["SERVICE_NAME"]),
        "sign_in",
        link=external_url("accounts.confirm_sign_in", token=token),
        minutes=minutes,
        new_account=existing is None,
    )


def check_sign_in_token(token: str) -> SignInToken:
    """The unused, unexpired token row, or LinkProblem saying what is wrong."""
    row = db.session.scalar(select(SignInToken).where(SignInToken.token_hash ==
                                                      hash_token(token)))
    if row is None:
        raise LinkProblem("invalid")
    if row.used_at is not None:
        raise LinkProblem("used")
    if row.expires_at <= utcnow():
        raise LinkProblem("expired")
    return row


def consume_sign_in_token(token: str) -> tuple[User, str | None]:
    """Mark the link used and return the person (creating their account on first sign-in)
    with the page they asked for. Row-locked so a link works exactly once."""
    row = db.session.scalar(
        select(SignInToken).where(SignInToken.token_hash == hash_token(token))
        .with_for_update()
    )
    if row is None:
        raise LinkProblem("invalid")
    check_sign_in_token(token)
    row.used_at = utcnow()
    user = get_user_by_email(row.email)
    if user is None:
        user = create_user(row.email)
    if user.is_deleted:
        raise LinkProblem("invalid")
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    user.last_signed_in_at = utcnow()
    db.session.flush()
    return user, row.next_url


def update_profile(user: User, display_name: str, language: str) -> User:
    """Change the person's pseudonymous display name and preferred language."""
    user.display_name = clean_text(display_name, label=_l("a display name"),
                                   max_length=DISPLAY_NAME_MAX, required=True,
                                   field="display_name")
    if get_language(language) is None:
        raise ValidationError(_("Choose a language from the list."), "language")
    user.language = get_language(language).code
    db.session.flush()
    return user


def end_sessions(user: User) -> None:
    """Sign the person out everywhere: every session cookie issued so far (a copy kept
    before signing out included) stops working, because the user loader checks
    ``session_version``."""
    user.session_version = (user.session_version or 0) + 1
    db.session.flush()


def delete_account(user: User) -> None:
    """Erase the person's account data: their address and name, the sign-in links and
    invitations sent to that address. Contributions stay, shown as by a former member.
    (``feedback.privacy.services.delete_account`` also erases their subscriptions.)"""
    if user.email:
        db.session.execute(delete(SignInToken).where(SignInToken.email == user.email))
        db.session.execute(update(Invitation).where(Invitation.email == user.email)
                           .values(email=None))
    user.email = None
    user.display_name = None
    user.deleted_at = utcnow()
    user.session_version += 1
    user.memberships.clear()
    audit.record("user.deleted", actor=user, target=user, summary="Deleted their account")
    db.session.flush()


def purge_sign_in_records(now=None) -> tuple[int, int]:
    """Delete sign-in link records older than ``RETENTION_SIGN_IN_DAYS`` and erase the
    address on invitations that expired that long ago. Returns (links, invitations)."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["RETENTION_SIGN_IN_DAYS"])
    links = db.session.execute(delete(SignInToken).where(SignInToken.created_at < cutoff))
    invitations = db.session.execute(
        update(Invitation).where(Invitation.expires_at < cutoff, Invitation.email.is_not(None))
        .values(email=None))
    db.session.flush()
    return links.rowcount or 0, invitations.rowcount or 0


def set_platform_role(actor: Any, user: User, role: PlatformRole) -> User:
    require_admin(actor)
    user.role = PlatformRole(role)
    audit.record("user.role_changed", actor=actor, target=user,
                 summary=f"Platform role set to {user.role.value}")
    db.session.flush()
    return user


def invite_member(actor: Any, organisation: Any, email: str, role: OrgRole) -> Invitation:
    """Email an invitation to join ``organisation`` in ``role``. Org admins only."""
    require_org_admin(actor, organisation.id)
    email = clean_email(email)
    role = OrgRole(role)
    token, token_hash = new_token()
    invitation = Invitation(
        organisation_id=organisation.id, email=email, role=role, token_hash=token_hash,
        invited_by_id=actor.id, expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("member.invited", actor=actor, organisation=organisation, target=invitation,
                 summary=f"Invited a new {role.value}", role=role.value)
    from feedback.core.templating import isolate_text
    from feedback.translation.display import localised_text

    language = invitation_language(email)
    with force_locale(language.babel_locale):  # the invitee's language, not the inviter's
        # The organisation's name is content: a checked translation where there is one,
        # else as written (the template isolates it inside the translated sentence).
        name = localised_text(organisation.name, language, kind="text")
        send_template_email_after_commit(
            email,
            _("You are invited to join %(org)s on %(service)s", org=isolate_text(name.text),
              service=current_app.config["SERVICE_NAME"]),
            "invitation",
            organisation=name,
            role=role,
            role_label=str(ORG_ROLE_LABELS[role]),
            link=external_url("accounts.accept_invitation", token=token),
            days=INVITATION_DAYS,
        )
    return invitation


def invitation_language(email: str) -> Language:
    """The language to invite someone in: theirs if they already have an account with a
    language, else the site's default (organisations have no language of their own).
    Never the inviter's: they may well not share one."""
    invitee = get_user_by_email(email)
    return ((get_language(invitee.language) if invitee is not None else None)
            or get_language(current_app.config["DEFAULT_LANGUAGE"]) or source_language())


def find_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash ==
                                                            hash_token(token)))
    if invitation is None:
        raise LinkProblem("invalid")
    if invitation.accepted_at is not None:
        raise LinkProblem("used")
    if invitation.expires_at <= utcnow():
        raise LinkProblem("expired")
    return invitation


def accept_invitation(user: User, token: str) -> Membership:
    """Join the organisation. An existing membership takes the invited role."""
    invitation = find_invitation(token)
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    invitation.email = None  # no longer needed
    membership = user.membership_of(invitation.organisation_id)
    if membership is None:
        membership = Membership(user=user, organisation_id=invitation.organisation_id,
                                role=invitation.role)
        db.session.add(membership)
    else:
        membership.role = invitation.role
    db.session.flush()
    audit.record("member.joined", actor=user, organisation=invitation.organisation,
                 target=membership, summary=f"Joined as {invitation.role.value}")
    return membership


def add_member(actor: Any, organisation: Any, user: User, role: OrgRole) -> Membership:
    """Add someone directly (CLI and demo seed, or a platform admin setting up an org)."""
    if actor is not None:
        require_org_admin(actor, organisation.id)
    membership = user.membership_of(organisation.id)
    if membership is None:
        membership = Membership(user=user, organisation=organisation, role=OrgRole(role))
        db.session.add(membership)
    else:
        membership.role = OrgRole(role)
    db.session.flush()
    audit.record("member.added", actor=actor, organisation=organisation, target=membership,
                 summary=f"Added as {OrgRole(role).value}")
    return membership


def remove_member(actor: Any, organisation: Any, membership: Membership) -> None:
    require_org_admin(actor, organisation.id)
    if membership.organisation_id != organisation.id:
        raise ValidationError(_("That person is not a member of this organisation."))
    admins = [m for m in organisation.memberships if m.role == OrgRole.ADMIN]
    if membership.role == OrgRole.ADMIN and len(admins) == 1:
        raise ValidationError(_("An organisation must keep at least one admin."))
    audit.record("member.removed", actor=actor, organisation=organisation, target=membership,
                 summary="Removed a member")
    db.session.delete(membership)
    db.session.flush()


def change_member_role(actor: Any, organisation: Any, membership: Membership,
                       role: OrgRole) -> Membership:
    require_org_admin(actor, organisation.id)
    role = OrgRole(role)
    if membership.organisation_id != organisation.id:
        raise ValidationError(_("That person is not a member of this organisation."))
    admins = [m for m in organisation.memberships if m.role == OrgRole.ADMIN]
    if membership.role == OrgRole.ADMIN and role != OrgRole.ADMIN and len(admins) == 1:
        raise ValidationError(_("An organisation must keep at least one admin."))
    membership.role = role
    audit.record("member.role_changed", actor=actor, organisation=organisation,
                 target=membership, summary=f"Role changed to {role.value}")
    db.session.flush()
    return membership
