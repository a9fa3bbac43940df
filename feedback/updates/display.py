"""What a list of updates shows of each one (``templates/updates/_card.html``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from feedback.core.i18n import current_language
from feedback.core.templating import item_url
from feedback.translation.display import Localised, localise, translated_field
from feedback.updates.models import Update


@dataclass(frozen=True)
class Card:
    """One update in a list: its link, texts in the reader's language (each with its own
    lang and dir), kind, date and topics, each topic with its link into the list."""

    href: str
    title: Localised
    summary: Localised
    organisation: Localised
    kind: str
    published_at: datetime | None
    topics: list[tuple[str, Localised]]

    @property
    def machine(self) -> bool:
        """Some of the title or summary is unreviewed machine text (show the label)."""
        return self.title.machine or self.summary.machine

    @property
    def published_iso(self) -> str:
        return self.published_at.isoformat() if self.published_at else ""


def update_card(update: Update, list_url: str, topics: Iterable[tuple[str, str]]) -> Card:
    """``update`` as a list shows it, ``list_url`` being the list its ``topics`` (slug
    and name: ``UpdatePage.topics``) link to. Worked out in one call from the template
    instead of a dozen (a list has twenty cards, and each call from a template costs
    more than the work it does)."""
    language = current_language()
    return Card(
        href=item_url("updates.update", "slug", update.slug),
        title=translated_field(update, "title", language=language),
        summary=translated_field(update, "summary", language=language),
        organisation=translated_field(update.organisation, "name", language=language),
        kind=update.kind_label,
        published_at=update.published_at,
        topics=[(f"{list_url}?topic={quote(slug)}", localise(name, "text", language))
                for slug, name in topics])
