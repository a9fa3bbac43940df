"""Erasure and retention across domains. Services ``flush()``; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass

from feedback.accounts import services as accounts
from feedback.accounts.models import User
from feedback.subscriptions import services as subscriptions


def delete_account(user: User) -> None:
    """Delete an account and erase everything held against its address: the account's
    own data, sign-in links, invitations, and subscriptions to digests and newsletters
    (unsubscribed at once; the consent ledger keeps a pseudonymous record)."""
    email = user.email
    accounts.delete_account(user)
    if email:
        subscriptions.erase_address(email, "account deleted")


@dataclass(frozen=True)
class Purged:
    sign_in_links: int
    invitations: int
    unsubscribed: int


def purge_expired_personal_data(now=None) -> Purged:
    """Apply the retention settings once (RETENTION_SIGN_IN_DAYS,
    RETENTION_UNSUBSCRIBED_DAYS)."""
    links, invitations = accounts.purge_sign_in_records(now)
    return Purged(links, invitations, subscriptions.erase_unsubscribed(now))
