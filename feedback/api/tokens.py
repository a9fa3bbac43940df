"""Organisation-scoped API tokens: made by the CLI (or an org admin), stored as hashes,
revocable. A token acts as an editor of its organisation and of nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from feedback.accounts.models import OrgRole, PlatformRole
from feedback.accounts.permissions import require_org_admin
from feedback.api.models import TOKEN_NAME_MAX, ApiToken
from feedback.audit import services as audit
from feedback.core.models import utcnow
from feedback.core.tokens import hash_token, new_token
from feedback.core.validation import ValidationError, clean_text
from feedback.extensions import db
from feedback.organisations.models import Organisation

TOKEN_PREFIX = "fbk_"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class _TokenMembership:
    organisation_id: int
    role: OrgRole = OrgRole.EDITOR


class TokenActor:
    """Stands in for a person in permission checks: an editor of one organisation."""

    is_authenticated = True
    is_active = True
    is_admin = False
    is_moderator = False
    role = PlatformRole.MEMBER
    id = None

    def __init__(self, token: ApiToken):
        self.token = token
        self.memberships = [_TokenMembership(token.organisation_id)]

    def membership_of(self, organisation_id: int) -> _TokenMembership | None:
        return self.memberships[0] if organisation_id == self.token.organisation_id else None


def create_token(actor: Any, organisation: Organisation, name: str | None = None
                 ) -> tuple[str, ApiToken]:
    """Make a token for ``organisation``. Returns the token (shown once) and its record."""
    if actor is not None:
        require_org_admin(actor, organisation.id)
    label = clean_text(name, label=_l("the token's name"), max_length=TOKEN_NAME_MAX,
                       field="name")
    secret, _hash = new_token()
    token = TOKEN_PREFIX + secret
    record = ApiToken(organisation_id=organisation.id, name=label, prefix=token[:10],
                      token_hash=hash_token(token), created_by_id=getattr(actor, "id", None))
    db.session.add(record)
    db.session.flush()
    audit.record("api_token.created", actor=actor, organisation=organisation, target=record,
                 summary=f"API token {record.prefix}… created")
    return token, record


def revoke_token(actor: Any, record: ApiToken) -> ApiToken:
    if actor is not None:
        require_org_admin(actor, record.organisation_id)
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.flush()
        audit.record("api_token.revoked", actor=actor, organisation=record.organisation,
                     target=record, summary=f"API token {record.prefix}… revoked")
    return record


def find_token(prefix_or_id: str) -> ApiToken:
    statement = select(ApiToken).options(joinedload(ApiToken.organisation))
    if prefix_or_id.isdigit():
        statement = statement.where(ApiToken.id == int(prefix_or_id))
    else:
        statement = statement.where(ApiToken.prefix == prefix_or_id[:10])
    record = db.session.scalar(statement)
    if record is None:
        raise ValidationError(_l("No such token."))
    return record


def list_tokens(organisation_id: int | None = None) -> Sequence[ApiToken]:
    statement = (select(ApiToken).options(joinedload(ApiToken.organisation))
                 .order_by(ApiToken.created_at))
    if organisation_id is not None:
        statement = statement.where(ApiToken.organisation_id == organisation_id)
    return db.session.scalars(statement).all()


def authenticate(authorization: str | None) -> ApiToken | None:
    """The live token in an ``Authorization: Bearer ...`` header, or None."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    token = authorization.removeprefix("Bearer ").strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    record = db.session.scalar(select(ApiToken).where(ApiToken.token_hash ==
                                                      hash_token(token)))
    if record is None or record.revoked_at is not None:
        return None
    return record
