"""The translation job against loopback providers: queueing, batching, counting,
never sending a segment twice, back-off, budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from feedback.audit.models import AuditEvent
from feedback.core.models import utcnow
from feedback.extensions import db
from feedback.translation.models import ProviderUsage, SegmentStatus, TranslationSegment
from feedback.translation.segments import split
from feedback.translation.tasks import translate_pending

DESCRIPTION = """We cut waiting times for **sickle cell** pain relief to 30 minutes.

Read [the report](https://example.org/report) for details."""


@pytest.fixture
def app_config(libretranslate, deepl, azure):
    return {"LANGUAGES": "en,ur,so,pt,pa-Arab",
            "LIBRETRANSLATE_URL": libretranslate.url, "LIBRETRANSLATE_API_KEY": "libre-key",
            "DEEPL_API_KEY": "deepl-key:fx", "DEEPL_API_URL": deepl.url,
            "AZURE_TRANSLATOR_KEY": "azure-key", "AZURE_TRANSLATOR_URL": azure.url}


def _rows(language: str | None = None, status: SegmentStatus | None = None):
    statement = select(TranslationSegment).order_by(TranslationSegment.id)
    if language:
        statement = statement.where(TranslationSegment.target_language == language)
    if status:
        statement = statement.where(TranslationSegment.status == status)
    return db.session.scalars(statement).all()


def _characters(*texts: tuple[str, str]) -> int:
    return sum(len(segment.text) for value, kind in texts for segment in split(value, kind))


def test_saving_content_queues_each_segment_once_per_target_language(translatable, make_org):
    make_org(name="Riverside", description=DESCRIPTION)
    assert {row.target_language for row in _rows()} == {"ur", "so", "pt", "pa-Arab"}
    assert len(_rows("ur")) == 3  # the name and two paragraphs
    assert all(row.status == SegmentStatus.PENDING for row in _rows())
    # The same paragraph elsewhere is already in the memory.
    make_org(name="Riverside", description=DESCRIPTION)
    assert len(_rows()) == 12


def test_the_job_uses_each_languages_provider_and_sends_the_minimum(
        translatable, make_org, libretranslate, deepl, azure):
    make_org(name="Riverside", description=DESCRIPTION)
    report = translate_pending()
    minimum = _characters(("Riverside", "text"), (DESCRIPTION, "markdown"))
    assert libretranslate.counter.characters == minimum  # Urdu
    assert azure.counter.characters == minimum  # Somali
    assert deepl.counter.characters == minimum  # Portuguese
    # One call per format per language: the name (text) and the paragraphs (html).
    assert (libretranslate.counter.calls, azure.counter.calls, deepl.counter.calls) == (2, 2, 2)
    assert report["characters"] == 3 * minimum and report["translated"] == 9
    assert libretranslate.counter.requests[1]["body"]["format"] == "html"
    assert deepl.counter.requests[1]["body"]["tag_handling"] == "html"
    # Shahmukhi Panjabi is translated by people only: it waits in the queue.
    assert {row.status for row in _rows("pa-Arab")} == {SegmentStatus.PENDING}
    urdu = _rows("ur", SegmentStatus.MACHINE_DRAFT)
    assert {row.origin for row in urdu} == {"libretranslate"}
    assert any('<a href="https://example.org/report">' in row.text for row in urdu)

    # Never twice: a second run sends nothing.
    assert translate_pending()["calls"] == 0
    assert libretranslate.counter.calls == 2


def test_editing_the_source_queues_and_sends_only_what_changed(
        translatable, make_org, libretranslate):
    org = make_org(name="Riverside", description=DESCRIPTION)
    translate_pending()
    before = libretranslate.counter.characters
    org.description = DESCRIPTION.replace("Read", "Please read")
    db.session.commit()
    assert len(_rows("ur", SegmentStatus.PENDING)) == 1
    translate_pending()
    changed = _characters(("Please read [the report](https://example.org/report) for "
                           "details.", "markdown"))
    assert libretranslate.counter.characters - before == changed


def test_batches_stay_within_the_providers_limit(translatable, make_org, libretranslate):
    libretranslate.counter.batch_limit = 50
    make_org(name="Long", description="\n\n".join(f"Paragraph {n}." for n in range(120)))
    report = translate_pending()
    assert report["stopped"] == {}
    assert [len(r["body"]["q"]) for r in libretranslate.counter.requests] == [1, 50, 50, 20]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_busy_or_failing_providers_are_retried_later_with_back_off(
        translatable, make_org, libretranslate, status):
    make_org(name="Riverside", description=DESCRIPTION)
    libretranslate.counter.fail(status, times=2, **({"Retry-After": "120"}
                                                     if status == 429 else {}))
    now = utcnow()
    report = translate_pending(now=now)
    assert report["stopped"]["libretranslate"] == "retry later"
    assert len(_rows("ur", SegmentStatus.PENDING)) == 3
    # LibreTranslate's row: another provider's may be first on PostgreSQL (no ORDER BY).
    usage = db.session.scalar(select(ProviderUsage).where(
        ProviderUsage.provider == "libretranslate"))
    assert usage.paused_until == now + timedelta(minutes=2 if status == 429 else 1)
    # Not before its time.
    calls = libretranslate.counter.calls
    translate_pending(now=now + timedelta(seconds=30))
    assert libretranslate.counter.calls == calls
    # Later, a second failure doubles the wait; then it works.
    translate_pending(now=now + timedelta(hours=1))
    assert usage.paused_until == now + timedelta(hours=1, minutes=2)
    translate_pending(now=now + timedelta(hours=3))
    assert _rows("ur", SegmentStatus.PENDING) == []
    assert libretranslate.counter.characters == _characters(("Riverside", "text"),
                                                            (DESCRIPTION, "markdown"))


def test_the_monthly_budget_stops_the_job_and_tells_admins_once(
        app, translatable, make_org, make_user, libretranslate, outbox):
    make_user(role="admin", email="admin@example.org")
    name_only = len("Riverside")
    app.config["TRANSLATION_BUDGETS"] = f"libretranslate={name_only}"
    make_org(name="Riverside", description=DESCRIPTION)
    report = translate_pending()
    assert report["stopped"]["libretranslate"] == "budget"
    assert libretranslate.counter.characters == name_only  # the first batch fitted
    message = outbox.last()
    assert message["To"] == "admin@example.org"
    assert "libretranslate" in message["Subject"]
    assert "budget" in outbox.text(message)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "translation.provider_stopped")) == 1
    translate_pending()
    assert len(outbox.messages()) == 1
    assert libretranslate.counter.characters == name_only
    # Other providers carry on.
    assert _rows("so", SegmentStatus.PENDING) == []


def test_a_refused_key_stops_that_provider_and_tells_admins(
        app, translatable, make_org, make_user, libretranslate, outbox):
    make_user(role="admin", email="admin@example.org")
    app.config["LIBRETRANSLATE_API_KEY"] = "wrong"
    make_org(name="Riverside", description=DESCRIPTION)
    report = translate_pending()
    assert report["stopped"]["libretranslate"] == "not allowed"
    assert "Invalid API key" in outbox.text(outbox.last())
    assert len(_rows("ur", SegmentStatus.PENDING)) == 3


def test_a_rejected_batch_is_set_aside_and_others_go_on(
        translatable, make_org, libretranslate):
    make_org(name="Riverside", description=DESCRIPTION)
    libretranslate.counter.fail(400)
    report = translate_pending()
    assert report["stopped"] == {}
    rows = _rows("ur")
    assert [row.status for row in rows].count(SegmentStatus.PENDING) == 1
    assert "HTTP 400" in next(r.last_error for r in rows if r.status == SegmentStatus.PENDING)
