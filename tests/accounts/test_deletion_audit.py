"""Deleting an account is audited by id only (issue 13, item 16)."""

from __future__ import annotations

from sqlalchemy import select

from feedback.audit.models import AuditEvent
from feedback.extensions import db


def test_deleting_an_account_is_audited_without_personal_data(login_as, make_user):
    user = make_user(email="leaving@example.org", name="Leaving Person")
    client = login_as(user)
    assert client.post("/account/delete", data={"confirm": "y"}).status_code == 302
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "user.deleted")).all()
    assert (event.actor_id, event.target_type, event.target_id) == (user.id, "User", user.id)
    assert "leaving" not in (event.summary + str(event.details)).lower()
