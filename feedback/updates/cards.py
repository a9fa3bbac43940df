"""An update's share card: the PNG behind its ``og:image``, with its title in the
language the page shows it in (feedback/core/share_cards.py draws and keeps it)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from feedback.core import share_cards
from feedback.core.languages import Language, get_language
from feedback.translation.display import localise
from feedback.updates.models import Update


def share_card(update: Update, language: Language) -> tuple[Path, str]:
    """The card for ``update`` read in ``language``, and its ETag. The title is what the
    page shows (approved translation, machine draft or the original), drawn in the fonts
    of the language it is actually in. A new revision's title draws a new card."""
    title = localise(update.title, "text", language)
    drawn_in = get_language(title.lang) or language
    return share_cards.card_file(title.text, drawn_in, current_app.config["SERVICE_NAME"])

