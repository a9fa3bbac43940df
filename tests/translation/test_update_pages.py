"""An update in Urdu, end to end: published, machine-translated, labelled, reviewed by a
partner translator, and in an Urdu digest; an untranslated one falls back as specified."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from feedback.extensions import db
from feedback.translation import services
from feedback.translation.display import localised_text
from feedback.translation.models import SegmentStatus, TranslationSegment
from feedback.translation.registry import segments_of
from feedback.translation.tasks import translate_pending
from tests.updates.conftest import update_data

URDU_NOTE = "اس تحریر کا جانچا ہوا ترجمہ جلد آ رہا ہے۔"  # "a checked translation is coming"


@pytest.fixture
def app_config(libretranslate):
    return {"LANGUAGES": "en,ur,so", "LIBRETRANSLATE_URL": libretranslate.url,
            "LIBRETRANSLATE_API_KEY": "libre-key"}


@pytest.fixture
def make_update(app, make_org, make_dataset, make_service):
    from feedback.updates import services as updates

    trust = make_org(name="Riverside Hospitals")
    dataset, service = make_dataset(trust), make_service(trust)

    def make(publish: bool = True, **overrides):
        update = updates.create_update(None, trust, update_data(dataset, service, **overrides))
        if publish:
            updates.publish_update(None, update)
        db.session.commit()
        return update

    make.trust = trust
    return make


@pytest.fixture
def urdu_client(client):
    client.get("/language?code=ur")
    return client


def _segments(status=None, of=None):
    """Urdu rows; with ``of``, only those of that object's registered fields."""
    statement = select(TranslationSegment).where(TranslationSegment.target_language == "ur")
    if of is not None:
        statement = statement.where(TranslationSegment.source_hash.in_(
            [segment.hash for segment in segments_of(of)]))
    if status:
        statement = statement.where(TranslationSegment.status == status)
    return db.session.scalars(statement.order_by(TranslationSegment.id)).all()


def _tag(page: str, testid: str) -> str:
    return re.search(rf'<[^>]*data-testid="{testid}"[^>]*>', page).group(0)


def test_drafts_are_not_sent_for_translation(make_update):
    draft = make_update(publish=False)
    assert _segments(of=draft) == []


def test_an_update_in_urdu_machine_labelled_then_reviewed(make_update, urdu_client,
                                                          make_translator, libretranslate,
                                                          make_user):
    update = make_update()
    # title, summary, heading, paragraph, what changed, who benefits, purpose, legal basis
    assert len(_segments(SegmentStatus.PENDING, of=update)) == 8
    translate_pending()
    assert libretranslate.counter.calls == 2

    page = urdu_client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in page
    assert 'lang="ur" dir="rtl"' in _tag(page, "title")
    assert "[ur] Faster pain relief for sickle cell crises in A&amp;E" in page
    assert 'lang="ur" dir="rtl"' in _tag(page, "summary")
    assert '<h2 lang="ur" dir="rtl">[ur] What we found</h2>' in page
    assert "مشینی ترجمہ · اصل دیکھیں" in page  # "Machine translated · show original"
    # The original is one click away, without JavaScript.
    original = page.split('class="app-original"', 1)[1].split("</details>", 1)[0]
    assert "Faster pain relief for sickle cell crises in A&amp;E" in original
    assert "<strong>over an hour</strong>" in original

    # Trust staff, granted by their own organisation's admin.
    translator = make_translator("ur", org=make_update.trust)
    for segment in _segments(SegmentStatus.MACHINE_DRAFT, of=update):
        services.review_segment(translator, segment,
                                segment.text.replace("[ur] ", "[ur, checked] "), approve=True)
    # The names of the trust, its dataset and service, and the shared topics.
    admin = make_user(role="admin")
    for segment in _segments(SegmentStatus.MACHINE_DRAFT):
        services.review_segment(admin, segment, segment.text, approve=True)
    db.session.commit()
    page = urdu_client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert "[ur, checked] Faster pain relief" in page
    assert 'data-testid="machine-label"' not in page
    assert "اصل دیکھیں (انگریزی)" in page  # "Show the original (English)"
    assert URDU_NOTE not in page


def test_an_untranslated_update_falls_back_to_english_saying_so(make_update, urdu_client):
    update = make_update(title="Diabetes foot checks in Brent")
    page = urdu_client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in page
    assert 'lang="en" dir="ltr"' in _tag(page, "title")
    assert "Diabetes foot checks in Brent" in page
    assert 'data-testid="machine-label"' not in page
    assert URDU_NOTE in page


def test_the_urdu_digest_uses_approved_text_and_falls_back_for_the_rest(
        make_update, make_translator):
    reviewed = make_update(title="Faster pain relief")
    unreviewed = make_update(title="Diabetes foot checks in Brent", body="New clinics.")
    translate_pending()
    translator = make_translator("ur", org=make_update.trust)
    for segment in _segments(SegmentStatus.MACHINE_DRAFT):
        if segment.source_text in ("Faster pain relief", reviewed.summary) or (
                "What we found" in segment.source_text or "over an hour" in segment.source_text):
            services.review_segment(translator, segment, segment.text, approve=True)
    db.session.commit()

    # An audience that takes approved translations only (the default).
    title = localised_text(reviewed.title, "ur", kind="text")
    body = localised_text(reviewed.body, "ur")
    assert (title.lang, title.dir, title.text) == ("ur", "rtl", "[ur] Faster pain relief")
    assert not body.fallback and not body.machine and body.note == ""
    assert '<h2 lang="ur" dir="rtl">[ur] What we found</h2>' in body.html

    fallback = localised_text(unreviewed.title, "ur", kind="text")
    assert (fallback.lang, fallback.dir) == ("en", "ltr")
    assert fallback.text == "Diabetes foot checks in Brent"
    assert fallback.note == URDU_NOTE + " تب تک یہ انگریزی میں ہے۔"
    # An audience that allows machine drafts gets them, labelled.
    machine = localised_text(unreviewed.title, "ur", allow_machine=True, kind="text")
    assert machine.machine and machine.text == "[ur] Diabetes foot checks in Brent"


def test_lists_show_translated_titles_labelled_with_one_lookup_per_page(
        app, make_update, urdu_client):
    from sqlalchemy import event

    for number in range(3):
        make_update(title=f"Update number {number}")
    translate_pending()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "translation_segments" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = urdu_client.get("/updates").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1  # one lookup for all cards
    assert page.count('data-testid="machine-label"') == 3
    assert '<a href="/updates/update-number-0" lang="ur" dir="rtl">[ur] Update number 0</a>' \
        in page
    home = urdu_client.get("/").get_data(as_text=True)
    assert "[ur] Update number 2" in home


def test_the_email_block_marks_languages_labels_machine_text_and_says_what_is_coming(
        app, make_update):
    from flask import render_template_string
    from flask_babel import force_locale

    from feedback.core.languages import get_language

    update = make_update(title="Diabetes foot checks in Brent", body="New clinics.")
    translate_pending()
    urdu = get_language("ur")
    template = ('{% from "translation/_display.html" import email_block %}'
                '{{ email_block(t, reader, "https://example.org/u") }}')
    with app.test_request_context(), force_locale("ur"):
        fallback = render_template_string(template, reader=urdu,
                                          t=localised_text(update.body, "ur"))
        machine = render_template_string(
            template, reader=urdu, t=localised_text(update.body, "ur", allow_machine=True))
    assert '<div lang="en" dir="ltr"><p lang="en" dir="ltr">New clinics.</p></div>' in fallback
    assert f'<p lang="ur" dir="rtl" class="app-language-note">{URDU_NOTE}' in fallback
    assert '<p lang="ur" dir="rtl">[ur] New clinics.</p>' in machine
    assert "مشینی ترجمہ" in machine and 'href="https://example.org/u"' in machine


def _approve(admin, source: str, text: str) -> None:
    from feedback.translation.segments import hash_segment

    row = db.session.scalar(select(TranslationSegment).where(
        TranslationSegment.source_hash == hash_segment(source),
        TranslationSegment.target_language == "ur"))
    services.review_segment(admin, row, text, approve=True)
    db.session.commit()


def test_every_field_of_an_update_page_the_api_and_the_feed_in_urdu(
        make_update, urdu_client, make_user, client):
    update = make_update()
    admin = make_user(role="admin")
    _approve(admin, update.title, "سکل سیل کے درد میں جلد آرام")
    _approve(admin, update.what_changed, "سکل سیل کے درد کے لیے تیز راستہ۔")
    _approve(admin, "Sickle cell", "سکل سیل")
    _approve(admin, update.datasets[0].name, "ہسپتال کا ریکارڈ")
    page = urdu_client.get(f"/updates/{update.slug}").get_data(as_text=True)
    assert "<title>سکل سیل کے درد میں جلد آرام" in page
    assert 'lang="ur" dir="rtl">سکل سیل کے درد کے لیے تیز راستہ۔</dd>' in page
    assert '<span lang="ur" dir="rtl">سکل سیل</span>' in page
    assert '<span lang="ur" dir="rtl">ہسپتال کا ریکارڈ</span>' in page
    assert f'lang="en" dir="ltr">{update.who_benefits}</dd>' in page  # not yet translated
    assert URDU_NOTE in page

    data = client.get(f"/api/v1/updates/{update.id}?lang=ur").json["data"]
    assert data["title"] == "سکل سیل کے درد میں جلد آرام"
    assert data["who_benefits"] == update.who_benefits
    assert "سکل سیل" in data["topics"]
    fields = data["translation"]["fields"]
    assert (data["translation"]["language"], data["translation"]["direction"]) == ("ur", "rtl")
    assert fields["title"] == "approved" and fields["who_benefits"] == "untranslated"
    assert fields["datasets"] == "approved" and fields["topics"] == "untranslated"
    assert "translation" not in client.get(f"/api/v1/updates/{update.id}").json["data"]
    refused = client.get(f"/api/v1/updates/{update.id}?lang=xx")
    assert refused.status_code == 400 and refused.json["errors"][0]["source"] == {
        "parameter": "lang"}

    feed = client.get("/updates.atom?lang=ur").get_data(as_text=True)
    assert "<title>سکل سیل کے درد میں جلد آرام</title>" in feed
    assert 'xml:lang="ur"' in feed
    assert client.get("/updates.atom?lang=xx").status_code == 400



class TestWithThePageCacheOn:
    """Anonymous pages are cached per language: a translation must not wait for the cache."""

    @pytest.fixture
    def app_config(self, libretranslate):
        return {"LANGUAGES": "en,ur,so", "LIBRETRANSLATE_URL": libretranslate.url,
                "LIBRETRANSLATE_API_KEY": "libre-key", "PAGE_CACHE_SECONDS": 60}

    def test_a_new_translation_replaces_the_cached_page_at_once(self, make_update, urdu_client,
                                                                make_translator):
        update = make_update(title="Interpreters at the sickle cell clinic")
        page = urdu_client.get(f"/updates/{update.slug}").get_data(as_text=True)
        assert URDU_NOTE in page and "[ur] Interpreters" not in page
        assert "public" in urdu_client.get(f"/updates/{update.slug}").headers["Cache-Control"]

        translate_pending()  # the scheduled job stores machine drafts and commits
        page = urdu_client.get(f"/updates/{update.slug}").get_data(as_text=True)
        assert "[ur] Interpreters at the sickle cell clinic" in page

        translator = make_translator("ur", org=make_update.trust)
        title = next(segment for segment in _segments(SegmentStatus.MACHINE_DRAFT, of=update)
                     if segment.source_text == update.title)
        services.review_segment(translator, title, "[ur, checked] Interpreters", approve=True)
        db.session.commit()
        page = urdu_client.get(f"/updates/{update.slug}").get_data(as_text=True)
        assert "[ur, checked] Interpreters" in page
