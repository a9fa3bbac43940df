"""The translation job, run by the scheduler (never in a web request).

``translate_pending()`` sends each pending segment to its language's provider in
batches within the provider's limits, stores the drafts in the translation memory and
commits after every batch, so characters paid for are never lost. It backs off on 429
and 5xx, and stops a provider for the month, telling admins, when its character budget
would be passed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from feedback.core.caching import forget_pages
from feedback.core.languages import Language, source_language, target_languages
from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.translation.models import ProviderUsage, SegmentStatus, TranslationSegment
from feedback.translation.providers import (
    NotAllowed,
    Provider,
    Rejected,
    RetryLater,
    configured_providers,
    monthly_budgets,
)
from feedback.translation.segments import Segment, check_translation

log = logging.getLogger(__name__)

PAGE = 500
FIRST_BACKOFF = timedelta(minutes=1)
LONGEST_BACKOFF = timedelta(hours=6)
REJECTED_RETRY = timedelta(days=1)


@dataclass
class JobReport:
    calls: int = 0
    characters: int = 0
    translated: int = 0
    held_for_review: int = 0
    stopped: dict[str, str] = field(default_factory=dict)  # provider -> why

    def as_dict(self) -> dict:
        return {"calls": self.calls, "characters": self.characters,
                "translated": self.translated, "held_for_review": self.held_for_review,
                "stopped": dict(self.stopped)}


def _usage(provider: str, now: datetime) -> ProviderUsage:
    month = now.strftime("%Y-%m")
    usage = db.session.scalar(select(ProviderUsage).where(
        ProviderUsage.provider == provider, ProviderUsage.month == month))
    if usage is None:
        usage = ProviderUsage(provider=provider, month=month, characters=0, calls=0)
        db.session.add(usage)
        db.session.flush()
    return usage


def _pending(language: Language, now: datetime, after_id: int) -> list[TranslationSegment]:
    return list(db.session.scalars(
        select(TranslationSegment)
        .where(TranslationSegment.target_language == language.code,
               TranslationSegment.source_language == source_language().code,
               TranslationSegment.status == SegmentStatus.PENDING,
               TranslationSegment.id > after_id,
               or_(TranslationSegment.next_attempt_at.is_(None),
                   TranslationSegment.next_attempt_at <= now))
        .order_by(TranslationSegment.id).limit(PAGE)))


def batches(rows: list[TranslationSegment], provider: Provider
            ) -> Iterator[list[TranslationSegment]]:
    """Rows grouped by format, each group cut to the provider's item and character limits."""
    for text_format in ("text", "html"):
        batch: list[TranslationSegment] = []
        size = 0
        for row in rows:
            if row.text_format != text_format:
                continue
            length = len(row.source_text)
            if batch and (len(batch) >= provider.max_items
                          or size + length > provider.max_characters):
                yield batch
                batch, size = [], 0
            batch.append(row)
            size += length
        if batch:
            yield batch


def _back_off(usage: ProviderUsage, rows: list[TranslationSegment], error: RetryLater,
              now: datetime) -> datetime:
    """Pause the whole provider, doubling the pause with each failure in a row."""
    usage.failures += 1
    delay = min(FIRST_BACKOFF * 2 ** (usage.failures - 1), LONGEST_BACKOFF)
    if error.retry_after is not None:
        delay = max(delay, timedelta(seconds=error.retry_after))
    usage.paused_until = now + delay
    for row in rows:
        row.attempts += 1
        row.last_error = str(error)[:300]
    return usage.paused_until


def _store(rows: list[TranslationSegment], texts: list[str], provider: str,
           now: datetime, report: JobReport) -> None:
    for row, text in zip(rows, texts, strict=True):
        problems = check_translation(Segment(row.source_text, row.text_format), text)
        row.text = text
        row.origin = provider
        row.translated_at = now
        row.attempts += 1
        row.next_attempt_at = None
        if problems:
            # Never shown until a person has checked it.
            row.status = SegmentStatus.NEEDS_REVIEW
            row.last_error = " ".join(problems)[:300]
            report.held_for_review += 1
        else:
            row.status = SegmentStatus.MACHINE_DRAFT
            row.last_error = None
            report.translated += 1
            forget_pages()  # anonymous pages in this language now show the draft


def _tell_admins(usage: ProviderUsage, reason: str) -> None:
    """Once a month per provider: the job has stopped and a person must act."""
    from feedback.translation.services import notify_admins

    if usage.notified_at is None:
        usage.notified_at = utcnow()
        notify_admins(usage.provider, reason)


def translate_pending(now: datetime | None = None) -> dict:
    """Translate every pending segment that a configured provider can draft. Returns
    what was done: calls, characters, segments translated, and providers stopped."""
    now = now or utcnow()
    providers = configured_providers()
    budgets = monthly_budgets()
    source = source_language()
    report = JobReport()
    for language in target_languages():
        provider = providers.get(language.provider)
        if provider is None or provider.name in report.stopped:
            continue
        usage = _usage(provider.name, now)
        if usage.paused_until is not None and usage.paused_until > now:
            report.stopped[provider.name] = "retry later"
            continue
        last_id = 0
        while provider.name not in report.stopped:
            rows = _pending(language, now, last_id)
            if not rows:
                break
            last_id = rows[-1].id
            for batch in batches(rows, provider):
                characters = sum(len(row.source_text) for row in batch)
                budget = budgets.get(provider.name, 0)
                if budget and usage.characters + characters > budget:
                    usage.budget_reached_at = now
                    _tell_admins(usage, f"its monthly budget of {budget:,} characters is "
                                        "used up")
                    report.stopped[provider.name] = "budget"
                    db.session.commit()
                    break
                try:
                    texts = provider.translate([row.source_text for row in batch],
                                               source.machine_code, language.machine_code,
                                               batch[0].text_format)
                except RetryLater as error:
                    # Characters may or may not have been counted; count the call only.
                    usage.calls += 1
                    until = _back_off(usage, batch, error, now)
                    log.warning("%s is busy; trying again after %s", provider.name, until)
                    report.calls += 1
                    report.stopped[provider.name] = "retry later"
                    db.session.commit()
                    break
                except NotAllowed as error:
                    usage.calls += 1
                    report.calls += 1
                    log.error("%s refused the key or quota: %s", provider.name, error)
                    _tell_admins(usage, f"it refused the request ({error})")
                    report.stopped[provider.name] = "not allowed"
                    db.session.commit()
                    break
                except Rejected as error:
                    usage.calls += 1
                    report.calls += 1
                    for row in batch:
                        row.attempts += 1
                        row.next_attempt_at = now + REJECTED_RETRY
                        row.last_error = str(error)[:300]
                    log.warning("%s rejected a batch for %s: %s", provider.name,
                                language.code, error)
                    db.session.commit()
                    continue
                usage.calls += 1
                usage.characters += characters
                usage.failures = 0
                usage.paused_until = None
                report.calls += 1
                report.characters += characters
                _store(batch, texts, provider.name, now, report)
                db.session.commit()
    db.session.commit()
    current_app.logger.info("translation job: %s", report.as_dict())
    return report.as_dict()
