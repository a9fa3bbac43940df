"""Queueing follower notifications, in the caller's transaction.

Publishing an update or a priority response calls ``enqueue`` before the request commits,
so the publication and its notifications are saved together or not at all. Each call is
one ``INSERT ... SELECT`` whatever the number of followers; the delivery workers send the
rows (``feedback.notifications.sending``).
"""

from __future__ import annotations

from sqlalchemy import Select, exists, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from feedback.accounts.models import User
from feedback.core.addresses import address_hash_sql
from feedback.core.models import utcnow
from feedback.delivery.models import DeliveryStatus
from feedback.extensions import db
from feedback.notifications.models import Notification, NotificationKind
from feedback.subscriptions.models import Suppression

COLUMNS = ["kind", "subject_id", "user_id", "status", "attempts", "next_attempt_at",
           "last_error", "created_at"]
FINISHED = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED)


def reachable(user_ids: Select) -> list:
    """Conditions on ``User``: one of ``user_ids``, not deleted, with an address that is
    not suppressed."""
    return [User.id.in_(user_ids), User.deleted_at.is_(None), User.email.is_not(None),
            ~exists().where(Suppression.address_hash == address_hash_sql(User.email))]


def enqueue(kind: NotificationKind, subject_id: int, user_ids: Select, *,
            again: bool = False) -> int:
    """Queue ``kind`` about ``subject_id`` for every reachable user in ``user_ids`` (a
    select of user ids) with one INSERT ... SELECT. Someone already queued for this event
    is left alone, so nobody gets it twice; with ``again`` (a changed priority response)
    someone whose earlier copy has gone is queued once more. Returns rows written."""
    now = utcnow()
    rows = select(literal(kind.value), literal(subject_id), User.id,
                  literal(DeliveryStatus.PENDING.value), literal(0),
                  literal(now, Notification.next_attempt_at.type), literal(""),
                  literal(now, Notification.created_at.type)).where(*reachable(user_ids))
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Notification).from_select(COLUMNS, rows)
    key = ["kind", "subject_id", "user_id"]
    if again:
        table = Notification.__table__
        statement = statement.on_conflict_do_update(
            index_elements=key, where=table.c.status.in_([s.value for s in FINISHED]),
            set_={"status": DeliveryStatus.PENDING.value, "attempts": 0,
                  "next_attempt_at": statement.excluded.next_attempt_at, "claimed_at": None,
                  "claim_token": None, "sent_at": None, "last_error": "",
                  "provider_id": None, "receipt_status": None,
                  "created_at": statement.excluded.created_at})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=key)
    result = db.session.execute(statement)
    return result.rowcount or 0
