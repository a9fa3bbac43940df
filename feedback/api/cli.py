"""``feedback tokens``: organisation-scoped API tokens."""

from __future__ import annotations

import click

from feedback.extensions import db


@click.group()
def tokens() -> None:
    """Create, list and revoke organisations' API tokens."""


@tokens.command("create")
@click.option("--org", "org_slug", required=True, help="The organisation's short name (slug).")
@click.option("--name", default="", help="What the token is for, e.g. 'analytics pipeline'.")
def create(org_slug: str, name: str) -> None:
    """Make an API token for an organisation and print it (only its hash is kept)."""
    from feedback.api import tokens as service
    from feedback.core.exceptions import NotFound
    from feedback.core.validation import ValidationError
    from feedback.organisations.services import get_organisation

    try:
        org = get_organisation(org_slug)
    except NotFound:
        raise click.ClickException(f"No organisation with the short name {org_slug!r}.") from None
    try:
        token, record = service.create_token(None, org, name)
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(token)
    click.echo(f"Token {record.id} ({record.prefix}…) for {org.name}. Keep it secret: it "
               "is shown only once.", err=True)


@tokens.command("list")
@click.option("--org", "org_slug", default=None, help="Only this organisation's tokens.")
def list_tokens(org_slug: str | None) -> None:
    """List tokens (id, prefix, organisation, state); never the tokens themselves."""
    from feedback.api import tokens as service

    for record in service.list_tokens():
        if org_slug and record.organisation.slug != org_slug:
            continue
        state = "revoked" if record.revoked_at else "live"
        click.echo(f"{record.id}\t{record.prefix}…\t{record.organisation.slug}\t{state}\t"
                   f"{record.name}")


@tokens.command("revoke")
@click.argument("token_id")
def revoke(token_id: str) -> None:
    """Revoke a token by its id or prefix; it stops working at once."""
    from feedback.api import tokens as service
    from feedback.core.validation import ValidationError

    try:
        record = service.revoke_token(None, service.find_token(token_id))
    except ValidationError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"Revoked token {record.id} ({record.prefix}…).")
