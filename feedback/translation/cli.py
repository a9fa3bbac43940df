from __future__ import annotations

import json

import click


@click.command("translate")
def translate() -> None:
    """Send pending text to the translation providers once (the scheduler's job)."""
    from feedback.translation.tasks import translate_pending

    click.echo(json.dumps(translate_pending()))


@click.command("translation-owners")
def translation_owners() -> None:
    """Record whose content each translatable segment is (once, after upgrading)."""
    from feedback.extensions import db
    from feedback.translation.registry import record_all_owners

    added = record_all_owners(db.session)
    db.session.commit()
    click.echo(json.dumps({"owners_added": added}))


@click.command("grant-platform-translator")
@click.argument("email")
@click.argument("languages", nargs=-1, required=True)
def grant_platform_translator(email: str, languages: tuple[str, ...]) -> None:
    """Let EMAIL review translations of platform content into LANGUAGES."""
    from feedback.accounts.services import get_user_by_email
    from feedback.core.validation import ValidationError
    from feedback.extensions import db
    from feedback.translation import services

    user = get_user_by_email(email.strip())
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    system = type("PlatformAdmin", (), {"is_admin": True, "id": None,
                                        "is_authenticated": True})()
    try:
        added = services.grant_platform_translator(system, user, languages)
    except ValidationError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(json.dumps({"granted": [grant.language for grant in added]}))
