from __future__ import annotations

import json

import click


@click.command("translate")
def translate() -> None:
    """Send pending text to the translation providers once (the scheduler's job)."""
    from feedback.translation.tasks import translate_pending

    click.echo(json.dumps(translate_pending()))
