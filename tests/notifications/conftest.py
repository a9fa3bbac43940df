"""Fixtures for follower notifications: an update factory and its trust (from the updates
tests), a priority round (from the priorities tests), the mail fakes, and helpers."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, literal, select

from feedback.extensions import db
from tests.digest_support import notify_api, smtp_sink  # noqa: F401
from tests.priorities.conftest import make_round, organiser, partner, partner_staff  # noqa: F401
from tests.updates.conftest import (  # noqa: F401
    dataset,
    editor,
    make_update,
    service,
    sign_in_as,
    trust,
)


def add_followers(count: int, target_type: str, target_id: int,
                  prefix: str = "follower") -> list[int]:
    """``count`` people following one thing, inserted in bulk. Returns their ids."""
    from feedback.accounts.models import PlatformRole, User
    from feedback.core.models import UTCDateTime, utcnow
    from feedback.updates.models import Follow

    now = utcnow()
    rows = [{"email": f"{prefix}{n}@example.org", "display_name": f"Follower {n}",
             "language": "en", "role": PlatformRole.MEMBER, "created_at": now, "session_version": 1}
            for n in range(count)]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(User), rows[start:start + 5000])
    people = select(User.id).where(User.email.like(f"{prefix}%@example.org"))
    db.session.execute(insert(Follow).from_select(
        ["user_id", "target_type", "target_id", "created_at"],
        select(people.subquery().c.id, literal(target_type), literal(target_id),
               literal(now, UTCDateTime))))
    db.session.commit()
    return list(db.session.scalars(people.order_by(User.id)))


@pytest.fixture
def notifications():
    """The queue's rows, oldest first."""
    from feedback.notifications.models import Notification

    def rows() -> list[Notification]:
        db.session.expire_all()
        return list(db.session.scalars(select(Notification).order_by(Notification.id)))

    return rows
