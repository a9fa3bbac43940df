"""The best text for the reader, labelled honestly, with the original one click away."""

from __future__ import annotations

import pytest
from flask import render_template_string
from sqlalchemy import select

from feedback.core.languages import get_language
from feedback.extensions import db
from feedback.translation import services
from feedback.translation.display import localise, localised_text
from feedback.translation.models import TranslationSegment
from feedback.translation.tasks import translate_pending

BODY = "Pain relief within **30 minutes**.\n\nRead [the report](https://example.org/r)."


@pytest.fixture
def app_config(libretranslate):
    return {"LANGUAGES": "en,ur,so,pa-Arab", "LIBRETRANSLATE_URL": libretranslate.url,
            "LIBRETRANSLATE_API_KEY": "libre-key"}


@pytest.fixture
def urdu_rows(translatable, make_org):
    make_org(name="Riverside", description=BODY)
    translate_pending()
    return db.session.scalars(select(TranslationSegment).where(
        TranslationSegment.target_language == "ur", TranslationSegment.text_format == "html")
        .order_by(TranslationSegment.id)).all()


def test_machine_drafts_are_shown_labelled_in_the_readers_language(urdu_rows):
    result = localise(BODY, "markdown", get_language("ur"))
    assert result.machine and result.translated and not result.fallback
    assert (result.lang, result.dir) == ("ur", "rtl")
    assert '<p lang="ur" dir="rtl">[ur] Pain relief within <strong>30 minutes</strong>.</p>' \
        in result.html
    assert 'href="https://example.org/r"' in result.html
    assert "<strong>30 minutes</strong>" in result.original_html


def test_approved_segments_are_not_labelled_and_fallbacks_keep_english(
        urdu_rows, make_translator, riverside):
    translator = make_translator("ur", org=riverside)
    services.review_segment(translator, urdu_rows[0], "درد سے نجات <strong>30 منٹ</strong>",
                            approve=True)
    db.session.commit()
    result = localise(BODY, "markdown", get_language("ur"), allow_machine=False)
    assert not result.machine and result.fallback and result.translated
    assert '<p lang="ur" dir="rtl">درد سے نجات <strong>30 منٹ</strong></p>' in result.html
    assert '<p lang="en" dir="ltr">Read <a href="https://example.org/r"' in result.html


def test_digest_text_falls_back_with_a_sentence_in_the_readers_language(
        urdu_rows, make_translator, riverside):
    # Machine text is not allowed by default: all English, with the note.
    result = localised_text(BODY, "ur")
    assert not result.translated and not result.machine and result.fallback
    assert "Pain relief within" in result.html and "[ur]" not in result.html
    assert result.note  # in Urdu when the catalog has it, never empty
    # The audience allows machine text: labelled drafts, no note needed.
    allowed = localised_text(BODY, "ur", allow_machine=True)
    assert allowed.machine and not allowed.fallback and allowed.note == ""
    # Everything approved: no label, no note.
    translator = make_translator("ur", org=riverside)
    for row in urdu_rows:
        services.review_segment(translator, row, row.text, approve=True)
    db.session.commit()
    approved = localised_text(BODY, "ur")
    assert approved.translated and not approved.machine and not approved.fallback


def test_people_only_languages_show_english_until_a_person_translates(urdu_rows):
    result = localise(BODY, "markdown", get_language("pa-Arab"))
    assert not result.translated and result.lang == "en"


def test_the_display_macro_labels_machine_text_and_offers_the_original(urdu_rows):
    html = render_template_string(
        '{% from "translation/_display.html" import translated %}{{ translated(t) }}',
        t=localise(BODY, "markdown", get_language("ur")))
    assert '<div lang="ur" dir="rtl">' in html
    assert "Machine translated · show original" in html
    assert '<details class="app-original-toggle' in html
    assert '<div class="app-original" lang="en" dir="ltr">' in html
    english = render_template_string(
        '{% from "translation/_display.html" import translated %}{{ translated(t) }}',
        t=localise(BODY, "markdown", get_language("en")))
    assert "<details" not in english and 'lang="en"' in english
