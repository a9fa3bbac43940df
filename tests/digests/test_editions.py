"""Editions: once per (audience, period), each language rendered once, frozen on send."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from feedback.digests import services
from feedback.digests.models import Delivery, Edition, EditionStatus, EditionVersion
from feedback.extensions import db
from feedback.subscriptions.models import Audience, Cadence
from tests.digest_support import add_subscribers, item, make_audience, use_items


def test_periods_and_due_times(app):
    audience = Audience(cadence=Cadence.WEEKLY, send_weekday=2, send_hour=9)
    period, due = services.current_period(audience, datetime(2026, 11, 21, 12, tzinfo=UTC))
    assert period == "2026-W47"
    assert due == datetime(2026, 11, 18, 9, tzinfo=UTC)
    audience.cadence = Cadence.MONTHLY
    period, due = services.current_period(audience, datetime(2026, 11, 21, tzinfo=UTC))
    assert (period, due) == ("2026-11", datetime(2026, 11, 1, 9, tzinfo=UTC))


def test_an_edition_is_created_once_and_each_language_rendered_once(app):
    use_items(app, [item(1), item(2, title="Maternity & <you>", topics=["maternity"])])
    audience = make_audience(languages=["en", "ur", "pl"])
    add_subscribers(audience, 30, languages=("en", "ur", "pl"))

    first = services.create_and_start(audience.id, "2026-W47")
    db.session.commit()
    again = services.create_and_start(audience.id, "2026-W47")
    db.session.commit()
    assert first.id == again.id
    assert db.session.scalar(select(func.count()).select_from(Edition)) == 1
    assert db.session.scalar(select(func.count()).select_from(EditionVersion)) == 3
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 30

    urdu = first.version("ur")
    assert '<html lang="ur" dir="rtl">' in urdu.html
    assert 'style="' in urdu.html and "<style>" not in urdu.html  # CSS inlined
    assert "Maternity &amp; &lt;you&gt;" in urdu.html
    assert "Maternity & <you>" in urdu.text
    assert {"part": "title", "title": "Update 1: shorter waits"} in urdu.missing_translations
    assert first.version("en").missing_translations == []
    with pytest.raises(services.EditionFrozen):
        services.refresh_edition(first)


def test_the_database_refuses_a_second_edition_for_the_same_period(app):
    audience = make_audience()
    db.session.add(Edition(audience_id=audience.id, period="2026-11",
                           until=datetime.now(UTC)))
    db.session.commit()
    db.session.add(Edition(audience_id=audience.id, period="2026-11",
                           until=datetime.now(UTC)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_filters_choose_items_and_round_news_always_goes(app):
    use_items(app, [item(1, topics=["maternity"]), item(2, topics=["diabetes"]),
                    item(3, kind="round", topics=[], priority=True, title="Voting is open")])
    audience = make_audience(topics=["maternity"])
    add_subscribers(audience, 1)
    edition = services.create_and_start(audience.id, "2026-W47")
    db.session.commit()
    assert [(i["kind"], i["id"]) for i in edition.items] == [("round", 3), ("update", 1)]


def test_an_empty_edition_is_skipped_unless_the_audience_asks(app):
    use_items(app, [])
    quiet = make_audience(name="Quiet")
    keen = make_audience(name="Keen", send_when_empty=True)
    for audience in (quiet, keen):
        add_subscribers(audience, 2, prefix=audience.name)
    assert services.create_and_start(quiet.id, "2026-W47").status == EditionStatus.SKIPPED
    assert services.create_and_start(keen.id, "2026-W47").status == EditionStatus.SENDING
    db.session.commit()


def test_due_editions_need_confirmed_readers_and_the_due_time(app):
    from feedback.digests.tasks import create_due_editions

    use_items(app, [item(1)])
    audience = make_audience()
    assert create_due_editions() == []  # nobody to send to
    add_subscribers(audience, 3)
    created = create_due_editions()
    assert len(created) == 1
    assert create_due_editions() == []  # created once


def test_archive_web_version_and_downloads(app, client):
    use_items(app, [item(1)])
    audience = make_audience(languages=["en", "ar"])
    add_subscribers(audience, 2)
    edition = services.create_and_start(audience.id, "2026-W47")
    db.session.commit()

    archive = client.get(f"/digests/{audience.id}")
    assert f"/digests/editions/{edition.id}/ar" in archive.get_data(as_text=True)
    page = client.get(f"/digests/editions/{edition.id}/ar")
    assert page.status_code == 200
    assert 'lang="ar" dir="rtl"' in page.get_data(as_text=True)
    html = client.get(f"/digests/editions/{edition.id}/ar.html")
    assert html.headers["Content-Disposition"].startswith("attachment")
    assert "@@" not in html.get_data(as_text=True)
    text = client.get(f"/digests/editions/{edition.id}/en.txt")
    assert text.mimetype == "text/plain" and "Update 1" in text.get_data(as_text=True)
    assert client.get(f"/digests/editions/{edition.id}/de").status_code == 404


def _urdu_segment(source: str, text: str, status):
    from feedback.translation.models import TranslationSegment
    from feedback.translation.segments import hash_segment

    db.session.add(TranslationSegment(
        source_hash=hash_segment(source), source_language="en", target_language="ur",
        source_text=source, text=text, status=status, origin="libretranslate"))
    db.session.commit()


def test_checked_translations_are_used_and_machine_drafts_only_when_allowed(app):
    from feedback.translation.models import SegmentStatus

    _urdu_segment("Update 1: shorter waits", "اپ ڈیٹ 1: کم انتظار", SegmentStatus.APPROVED)
    _urdu_segment("Because of your data, clinic 1 now opens on Saturdays.", "خلاصہ 1",
                  SegmentStatus.MACHINE_DRAFT)
    use_items(app, [item(1)])
    audience = make_audience(languages=["en", "ur"])
    add_subscribers(audience, 2)
    edition = services.create_and_start(audience.id, "2026-W47")
    db.session.commit()
    version = edition.version("ur")
    assert "اپ ڈیٹ 1: کم انتظار" in version.html and "اپ ڈیٹ 1" in version.text
    # The unchecked machine draft is not emailed: the English goes out, flagged.
    assert "خلاصہ 1" not in version.html
    assert version.missing_translations == [{"part": "summary",
                                             "title": "Update 1: shorter waits"}]

    # A partner who chooses machine drafts gets them, labelled.
    from feedback.digests.rendering import render_version

    audience.allow_machine_translation = True
    labelled = render_version(audience, edition, [item(1)], "ur")
    assert "خلاصہ 1" in labelled.html
    assert "مشینی ترجمہ" in labelled.html  # "Machine translated", in Urdu
    assert labelled.missing_translations == []


def test_the_priority_bar_sits_where_the_text_starts(app):
    """Mail programs ignore logical CSS properties: an Urdu email's priority bar is on the
    right, an English one's on the left."""
    use_items(app, [item(3, kind="round", topics=[], priority=True, title="Voting is open")])
    audience = make_audience(languages=["en", "ur"])
    add_subscribers(audience, 2, languages=("en", "ur"))
    edition = services.create_and_start(audience.id, "2026-W47")
    db.session.commit()
    urdu, english = edition.version("ur").html, edition.version("en").html
    assert "border-right: 4px solid #ffb81c" in urdu and "border-left: 4px" not in urdu
    assert "border-left: 4px solid #ffb81c" in english and "border-right: 4px" not in english
@pytest.mark.parametrize(("now", "period", "due"), [
    # The last Monday of Greenwich Mean Time, then British Summer Time (29 March 2026).
    (datetime(2026, 3, 25, 12, tzinfo=UTC), "2026-W13", datetime(2026, 3, 23, 9, tzinfo=UTC)),
    (datetime(2026, 4, 1, 12, tzinfo=UTC), "2026-W14", datetime(2026, 3, 30, 8, tzinfo=UTC)),
    # The last Monday of summer time, then back to GMT (25 October 2026).
    (datetime(2026, 10, 21, 12, tzinfo=UTC), "2026-W43",
     datetime(2026, 10, 19, 8, tzinfo=UTC)),
    (datetime(2026, 10, 28, 12, tzinfo=UTC), "2026-W44",
     datetime(2026, 10, 26, 9, tzinfo=UTC)),
    # Just before midnight UTC on a Sunday in summer is already Monday in the UK.
    (datetime(2026, 7, 5, 23, 30, tzinfo=UTC), "2026-W28",
     datetime(2026, 7, 6, 8, tzinfo=UTC)),
])
def test_send_times_are_uk_time_on_both_sides_of_a_clock_change(app, now, period, due):
    audience = Audience(cadence=Cadence.WEEKLY, send_weekday=0, send_hour=9)
    assert services.current_period(audience, now) == (period, due)


def test_the_next_send_is_shown_in_uk_time_and_names_the_clock(app):
    from feedback.core.uktime import format_uk

    audience = Audience(cadence=Cadence.WEEKLY, send_weekday=0, send_hour=9)
    # Asked on Saturday 28 March (GMT): the next Monday is in British Summer Time.
    due = services.next_due(audience, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert due == datetime(2026, 3, 30, 8, tzinfo=UTC)
    with app.test_request_context():
        assert format_uk(due) == "Monday 30 March 2026, 09:00 (British Summer Time)"
        after = services.next_due(audience, datetime(2026, 10, 24, 12, tzinfo=UTC))
        assert after == datetime(2026, 10, 26, 9, tzinfo=UTC)
        assert format_uk(after) == "Monday 26 October 2026, 09:00 (Greenwich Mean Time)"
    audience.cadence = Cadence.MONTHLY
    assert services.next_due(audience, datetime(2026, 3, 2, tzinfo=UTC)) == datetime(
        2026, 4, 1, 8, tzinfo=UTC)


def test_the_preview_names_what_is_untranslated_in_words(app):
    from feedback.digests.rendering import describe_missing

    with app.test_request_context():
        assert describe_missing({"part": "summary", "title": "Shorter waits"}) == (
            "The summary of “Shorter waits”")
        assert describe_missing({"part": "title", "title": "Shorter waits"}) == (
            "The title “Shorter waits”")
        assert describe_missing({"part": "intro"}) == "Your introduction"
        assert describe_missing({"part": "outro"}) == "Your closing words"
