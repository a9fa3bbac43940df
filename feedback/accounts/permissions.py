"""Authorisation rules, checked in services so that every caller (web, API, CLI, job)
gets the same answer."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from feedback.accounts.models import OrgRole, PlatformRole, User
from feedback.core.exceptions import Forbidden


class PermissionDenied(Forbidden):
    """The person may not do this. The web layer turns it into a 403 page."""


def _user(user: Any) -> User | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


def org_role(user: Any, organisation_id: int) -> OrgRole | None:
    person = _user(user)
    if person is None:
        return None
    membership = person.membership_of(organisation_id)
    return membership.role if membership else None


def can_edit_org(user: Any, organisation_id: int) -> bool:
    """Editors and org admins may write their own organisation's data, and nobody else."""
    return org_role(user, organisation_id) in (OrgRole.EDITOR, OrgRole.ADMIN)


def can_admin_org(user: Any, organisation_id: int) -> bool:
    """Org admins manage their organisation; platform admins may too (to set one up)."""
    person = _user(user)
    if person is None:
        return False
    return person.is_admin or org_role(person, organisation_id) == OrgRole.ADMIN


def require_org_editor(user: Any, organisation_id: int) -> User:
    if not can_edit_org(user, organisation_id):
        raise PermissionDenied(_("Only editors of this organisation can change its information."))
    return user


def require_org_admin(user: Any, organisation_id: int) -> User:
    if not can_admin_org(user, organisation_id):
        raise PermissionDenied(_("Only this organisation's admins can do that."))
    return user


def require_platform_role(user: Any, *roles: PlatformRole) -> User:
    person = _user(user)
    if person is None or (person.role not in roles and not person.is_admin):
        raise PermissionDenied(_("You do not have permission to do that."))
    return person


def require_moderator(user: Any) -> User:
    return require_platform_role(user, PlatformRole.MODERATOR, PlatformRole.ADMIN)


def require_admin(user: Any) -> User:
    return require_platform_role(user, PlatformRole.ADMIN)
