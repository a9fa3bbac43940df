"""The interface catalogs: one per default language, each compiles, placeholders match
the English, and anything untranslated falls back to English."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale, format_date, format_decimal, gettext, ngettext

from feedback.core.languages import DEFAULT_LANGUAGES
from feedback.translation.catalogs import TRANSLATIONS_DIR, catalog_statuses

# The catalogs are files, whichever database the suite uses: CI runs these once.
pytestmark = pytest.mark.once

CATALOGS = sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_every_default_language_has_a_catalog_and_a_review_status():
    locales = {path.parts[-3] for path in CATALOGS}
    statuses = catalog_statuses()
    for language in DEFAULT_LANGUAGES:
        if language.code == "en":
            continue
        assert language.babel_locale in locales, language.code
        assert statuses[language.code].status in ("draft", "reviewed")


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_the_catalog_compiles_and_keeps_every_placeholder(path: Path):
    with path.open("rb") as handle:
        catalog = read_po(handle)
    assert not catalog.fuzzy
    problems = [(message.id, errors) for message, errors in catalog.check()
                if not message.fuzzy]
    assert problems == []
    write_mo(io.BytesIO(), catalog)
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue  # fuzzy guesses are not compiled: they show in English
        if isinstance(message.id, tuple):
            wanted = _placeholders(message.id[1])
            for form in message.string:
                assert not form or _placeholders(form) == wanted, (message.id, form)
        else:
            assert _placeholders(message.string) == _placeholders(message.id), message.id


def test_pages_use_the_catalog_and_untranslated_text_falls_back_to_english(client):
    page = client.get("/language?code=ur", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in page
    assert "مرکزی مواد پر جائیں" in page  # "Skip to main content"
    with force_locale("ur"):
        assert gettext("A sentence no catalog has yet.") == "A sentence no catalog has yet."


def test_plurals_numbers_and_dates_follow_the_language(app):
    from datetime import date

    with app.test_request_context():
        with force_locale("pl"):
            assert ngettext("%(num)d text to check", "%(num)d texts to check", 3) == \
                "3 teksty do sprawdzenia"
            assert ngettext("%(num)d text to check", "%(num)d texts to check", 5) == \
                "5 tekstów do sprawdzenia"
            assert format_decimal(1234.5) == "1\xa0234,5"
        with force_locale("ar"):
            assert format_decimal(1234.5) in ("1,234.5", "١٬٢٣٤٫٥")
        with force_locale("ur"):
            assert format_date(date(2025, 3, 1), "d MMMM yyyy") == "1 مارچ 2025"
        with force_locale("pa_Guru"):
            assert "ਮਾਰਚ" in format_date(date(2025, 3, 1), "d MMMM yyyy")
        with force_locale("pa_Arab"):
            assert "مارچ" in format_date(date(2025, 3, 1), "d MMMM yyyy")


@pytest.mark.parametrize("language", DEFAULT_LANGUAGES, ids=lambda lang: lang.code)
def test_the_main_pages_work_in_every_default_language(client, language):
    client.get(f"/language?code={language.code}")
    for path in ("/", "/updates", "/languages", "/sign-in", "/privacy"):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert f'<html lang="{language.code}" dir="{language.direction}">' in page

