"""Settings, the README's honesty about them, and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from feedback import create_app
from feedback.accounts.models import Membership, PlatformRole, User
from feedback.config import SETTINGS, load_settings
from feedback.extensions import db
from feedback.organisations.models import Organisation

ROOT = Path(__file__).resolve().parent.parent


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("FEEDBACK_ENV", "production")
    monkeypatch.delenv("FEEDBACK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="FEEDBACK_SECRET_KEY must be set"):
        load_settings(tmp_path, None)


def test_development_generates_a_secret_key_once_and_keeps_it(monkeypatch, tmp_path):
    monkeypatch.delenv("FEEDBACK_SECRET_KEY", raising=False)
    monkeypatch.delenv("FEEDBACK_ENV", raising=False)
    first = load_settings(tmp_path, None)["SECRET_KEY"]
    assert len(first) >= 40
    assert load_settings(tmp_path, None)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_variables_override_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("FEEDBACK_SERVICE_NAME", "Community Data Voices")
    monkeypatch.setenv("FEEDBACK_SMTP_PORT", "2525")
    monkeypatch.setenv("FEEDBACK_DATABASE_URL", "postgresql+psycopg://db.example/feedback")
    settings = load_settings(tmp_path, None)
    assert settings["SERVICE_NAME"] == "Community Data Voices"
    assert settings["SMTP_PORT"] == 2525
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db.example/feedback"
    assert load_settings(tmp_path, {"SMTP_PORT": 25})["SMTP_PORT"] == 25


def test_the_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`FEEDBACK_{s.name}`" not in readme]
    assert missing == []


def test_wsgi_builds_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("FEEDBACK_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert (ROOT / "wsgi.py").read_text().strip().endswith("app = create_app()")
    assert create_app().name == "feedback"


@pytest.mark.parametrize("command", [["--help"], ["seed-demo", "--help"], ["users", "create",
                                     "--help"], ["db", "upgrade", "--help"], ["run", "--help"]])
def test_every_command_has_help(command):
    from click.testing import CliRunner

    from feedback.cli import main

    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_seed_demo_is_idempotent_and_covers_every_role(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = (db.session.scalar(select(func.count(Organisation.id))),
              db.session.scalar(select(func.count(User.id))))
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "(0 new records)" in second.output
    assert counts == (db.session.scalar(select(func.count(Organisation.id))),
                      db.session.scalar(select(func.count(User.id))))
    kinds = set(db.session.scalars(select(Organisation.kind)).all())
    assert {k.value for k in kinds} == {"nhs", "vcse", "research"}
    nhs = db.session.scalar(select(func.count(Organisation.id)).where(
        Organisation.kind == "nhs"))
    vcse = db.session.scalar(select(func.count(Organisation.id)).where(
        Organisation.kind == "vcse"))
    assert nhs >= 3 and vcse >= 3
    roles = set(db.session.scalars(select(User.role)).all())
    assert roles == {PlatformRole.MEMBER, PlatformRole.MODERATOR, PlatformRole.ADMIN}
    org_roles = {m.value for m in db.session.scalars(select(Membership.role)).all()}
    assert org_roles == {"editor", "admin"}
    third = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not seeding" in third.output


def test_users_create_makes_an_admin_and_refuses_duplicates(runner):
    result = runner.invoke(args=["users", "create", "--email", "boss@example.org",
                                 "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.role == PlatformRole.ADMIN and user.email_confirmed_at is not None
    again = runner.invoke(args=["users", "create", "--email", "boss@example.org"])
    assert again.exit_code != 0 and "already exists" in again.output
    bad = runner.invoke(args=["users", "create", "--email", "not-an-email"])
    assert bad.exit_code != 0 and "correct format" in bad.output
