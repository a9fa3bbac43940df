"""What gets translated: each domain's translatable fields, registered in one place.

One line per model: the fields and whether they are plain text or Markdown.
"""

from __future__ import annotations

from feedback.translation.registry import register_translatable


def register_content() -> None:
    from feedback.priorities.models import Priority
    from feedback.subscriptions.models import Audience
    from feedback.updates.models import Update

    # Only published updates go to providers: drafts change and are not public.
    register_translatable(Update, when=lambda update: update.is_published,
                          title="text", summary="text", body="markdown")
    register_translatable(Priority, title="text", description="markdown",
                          response_text="markdown")
    register_translatable(Audience, intro="markdown", outro="markdown")
