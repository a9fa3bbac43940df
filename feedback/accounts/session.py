"""Flask-Login wiring. Session ids carry a version so deletion and sign-out-everywhere
end every old session."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from feedback.extensions import db, login_manager


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = _l("Sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        from feedback.accounts.models import User

        user_id, _, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.scalar(
            select(User).options(selectinload(User.memberships)).where(User.id == int(user_id))
        )
        if user is None or user.is_deleted or user.session_version != int(version):
            return None
        return user
