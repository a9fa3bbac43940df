"""``feedback priorities ...``: run the phase job by hand (the scheduler runs it too)."""

from __future__ import annotations

import click


@click.group()
def priorities() -> None:
    """Research priority rounds."""


@priorities.command("advance")
@click.option("--round-id", "round_ids", type=int, multiple=True,
              help="Only this round (repeat for more). Default: every round.")
def advance(round_ids: tuple[int, ...]) -> None:
    """Move rounds on to the phase their dates say they should be in."""
    from feedback.priorities.tasks import advance_round_phases

    changes = advance_round_phases(list(round_ids) or None)
    for round_id, previous, phase in changes:
        click.echo(f"Round {round_id}: {previous} -> {phase}")
    click.echo(f"{len(changes)} round(s) moved on.")
