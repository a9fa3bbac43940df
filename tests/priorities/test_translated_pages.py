"""Priorities, rounds, suggestions and responses in the reader's language: approved
translations shown, English fallbacks marked as English with a note, the same number of
queries however long the lists, and the API and feeds translated on request."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from feedback.extensions import db
from feedback.priorities import services as priorities
from feedback.priorities.models import Phase
from feedback.translation import services
from feedback.translation.models import TranslationSegment
from feedback.translation.segments import hash_segment
from tests.updates.test_query_counts import queries_for

URDU_NOTE = "اس تحریر کا جانچا ہوا ترجمہ جلد آ رہا ہے۔"  # "a checked translation is coming"
ROUND_TITLE_UR = "سکل سیل تحقیق کی ترجیحات"
SCOPE_UR = "سکل سیل کے بارے میں مریضوں کے ڈیٹا سے تحقیق پہلے کس چیز کو دیکھے؟"


@pytest.fixture
def app_config():
    return {"LANGUAGES": "en,ur,pl"}


@pytest.fixture
def admin(make_user):
    return make_user(role="admin")


@pytest.fixture
def approve(admin):
    def approve(source: str, text: str, language: str = "ur") -> None:
        row = db.session.scalar(select(TranslationSegment).where(
            TranslationSegment.source_hash == hash_segment(source),
            TranslationSegment.target_language == language))
        assert row is not None, source
        services.review_segment(admin, row, text, approve=True)
        db.session.commit()

    return approve


@pytest.fixture
def urdu(client):
    client.get("/language?code=ur")
    return client


def _tag(page: str, testid: str) -> str:
    return re.search(rf'<[^>]*data-testid="{testid}"[^>]*>', page).group(0)


def test_round_and_priority_pages_show_approved_urdu_and_mark_english(
        make_round, approve, urdu, sign_in_as, make_user):
    round_ = make_round("voting", priorities=2)
    approve(round_.title, ROUND_TITLE_UR)
    approve(round_.scope, SCOPE_UR)
    approve("Priority question 1", "ترجیحی سوال 1")

    page = urdu.get(f"/priorities/rounds/{round_.slug}").get_data(as_text=True)
    assert f'<h1 data-testid="round-title" lang="ur" dir="rtl">{ROUND_TITLE_UR}</h1>' in page
    assert 'lang="ur" dir="rtl">ترجیحی سوال 1</span>' in page
    # Not yet translated: marked as English inside the Urdu page, with the note.
    assert '<span lang="en" dir="ltr">Priority question 2</span>' in page
    assert URDU_NOTE in page

    sign_in_as(make_user())
    urdu.get("/language?code=ur")
    vote = urdu.get(f"/priorities/rounds/{round_.slug}/vote").get_data(as_text=True)
    assert ROUND_TITLE_UR in vote.split("</title>", 1)[0]
    assert 'lang="ur" dir="rtl"' in _tag(vote, "round-scope") and SCOPE_UR in vote
    assert '<span lang="ur" dir="rtl">ترجیحی سوال 1</span>' in vote  # a ballot choice
    assert '<span lang="en" dir="ltr">Priority question 2</span>' in vote

    priority = priorities.list_priorities(round_)[0]
    page = urdu.get(f"/priorities/{priority.id}").get_data(as_text=True)
    assert 'lang="ur" dir="rtl"' in _tag(page, "priority-title")
    assert 'lang="en" dir="ltr"' in _tag(page, "priority-description")
    assert URDU_NOTE in page


def test_results_and_responses_in_urdu(make_round, approve, urdu, organiser):
    round_ = make_round("voting", priorities=2)
    priority = priorities.list_priorities(round_)[0]
    round_.phase = Phase.RESULTS
    priorities.publish_response(organiser, priority, "will_research",
                                "We will study this from April.")
    round_.phase = Phase.RESPONSES
    db.session.commit()
    approve("Priority question 1", "ترجیحی سوال 1")
    approve("We will study this from April.", "ہم اپریل سے اس کا مطالعہ کریں گے۔")
    results = urdu.get(f"/priorities/rounds/{round_.slug}/results").get_data(as_text=True)
    assert '<span lang="ur" dir="rtl">ترجیحی سوال 1</span>' in results
    assert "ترجیحی سوال 1" in results.split('class="app-chart', 1)[1]  # the chart's label
    page = urdu.get(f"/priorities/{priority.id}").get_data(as_text=True)
    assert 'lang="ur" dir="rtl"' in _tag(page, "response-text")
    assert "ہم اپریل سے اس کا مطالعہ کریں گے۔" in page


def test_published_suggestions_are_translated_and_pending_ones_are_not_queued(
        make_round, approve, urdu, make_user, organiser):
    round_ = make_round("suggestions", priorities=0)
    published = priorities.suggest(make_user(), round_, {"question": "Why the long waits?"})
    priorities.moderate(organiser, published, "published")
    pending = priorities.suggest(make_user(), round_, {"question": "A private thought?"})
    db.session.commit()
    assert db.session.scalar(select(TranslationSegment.id).where(
        TranslationSegment.source_hash == hash_segment(pending.question))) is None
    approve("Why the long waits?", "اتنا لمبا انتظار کیوں؟")
    page = urdu.get(f"/priorities/rounds/{round_.slug}").get_data(as_text=True)
    assert '<span lang="ur" dir="rtl">اتنا لمبا انتظار کیوں؟</span>' in page


def _add_suggestions(round_, make_user, organiser, start: int, count: int) -> None:
    for number in range(start, start + count):
        suggestion = priorities.suggest(make_user(), round_,
                                        {"question": f"Question {number}?",
                                         "why_it_matters": f"Because {number}."})
        priorities.moderate(organiser, suggestion, "published")
    db.session.commit()


@pytest.mark.parametrize("language", ["en", "ur"])
def test_priorities_pages_run_the_same_number_of_queries_for_few_and_many(
        make_round, make_user, organiser, client, sign_in_as, language):
    few_round = make_round("suggestions", priorities=2, title="Few")
    many_round = make_round("suggestions", priorities=12, title="Many")
    _add_suggestions(few_round, make_user, organiser, 0, 2)
    _add_suggestions(many_round, make_user, organiser, 10, 12)
    for round_ in (few_round, many_round):
        round_.phase, round_.hide_counts = Phase.VOTING, False
    db.session.commit()
    sign_in_as(make_user())
    client.get(f"/language?code={language}")

    def paths(round_):
        priority = priorities.list_priorities(round_)[0]
        return [f"/priorities/rounds/{round_.slug}", f"/priorities/rounds/{round_.slug}/vote",
                f"/priorities/rounds/{round_.slug}/results", f"/priorities/{priority.id}",
                f"/priorities/rounds/{round_.slug}/shortlist/1"]

    few = [queries_for(client, path) for path in paths(few_round)]
    many = [queries_for(client, path) for path in paths(many_round)]
    assert few == many
    assert queries_for(client, "/priorities") <= 10
