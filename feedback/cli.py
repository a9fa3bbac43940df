"""The ``feedback`` command: Flask's own commands (run, shell, routes), ``db`` from
Flask-Migrate, and ours. Each command's docstring is its --help."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from feedback.extensions import db


def _create_app() -> Flask:
    from feedback import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Feedback Loop: manage the database, demo data, people and the development server."""


def register(app: Flask) -> None:
    from feedback.api.cli import tokens
    from feedback.delivery.commands import deliver
    from feedback.priorities.cli import priorities
    from feedback.translation.cli import (
        grant_platform_translator,
        translate,
        translation_owners,
    )

    for command in (seed_demo, users, tokens, priorities, scheduler, deliver, translate,
                    translation_owners, grant_platform_translator):
        app.cli.add_command(command)


@click.command("scheduler")
@click.option("--poll", default=5.0, show_default=True,
              help="Seconds between attempts to take the lock when on standby.")
@with_appcontext
def scheduler(poll: float) -> None:
    """Run the one scheduler (editions, delivery, retries, purges); extra copies wait."""
    from flask import current_app

    from feedback.scheduler import run_forever

    run_forever(current_app._get_current_object(), poll_seconds=poll)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed a database with no organisations.")
def seed_demo(if_empty: bool) -> None:
    """Load realistic demo organisations, people and content (safe to run again)."""
    from sqlalchemy import select

    from feedback.demo import seed
    from feedback.organisations.models import Organisation

    if if_empty and db.session.scalar(select(Organisation.id).limit(1)) is not None:
        click.echo("The database already has data; not seeding.")
        return
    created = seed()
    db.session.commit()
    click.echo(f"Demo data ready ({created} new records).")


@click.group()
def users() -> None:
    """Manage people's accounts."""


@users.command("create")
@click.option("--email", required=True, help="The person's email address.")
@click.option("--role", type=click.Choice(["member", "moderator", "admin"]), default="member",
              show_default=True, help="Platform role.")
@click.option("--name", "display_name", default=None, help="Display name (default: a "
              "pseudonym).")
def create_user(email: str, role: str, display_name: str | None) -> None:
    """Create an account that can sign in by emailed link."""
    from feedback.accounts import services
    from feedback.accounts.models import PlatformRole
    from feedback.core.validation import ValidationError

    try:
        user = services.create_user(email, PlatformRole(role), display_name)
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Created {role} account {user.id} ({user.display_name}).")
