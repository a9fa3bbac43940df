"""The language registry is configuration; readers choose, profiles remember, and the
browser's Accept-Language is the first guess (scripts included)."""

from __future__ import annotations

import pytest

from feedback.core.languages import DEFAULT_LANGUAGES, enabled_languages, get_language
from feedback.extensions import db


def test_the_default_set_with_scripts_directions_and_providers():
    codes = [language.code for language in DEFAULT_LANGUAGES]
    assert codes == ["en", "cy", "pl", "ro", "pa-Guru", "pa-Arab", "ur", "bn", "gu", "ar",
                     "so", "ta", "pt"]
    by_code = {language.code: language for language in DEFAULT_LANGUAGES}
    assert [c for c, lang in by_code.items() if lang.is_rtl] == ["pa-Arab", "ur", "ar"]
    assert by_code["pa-Guru"].babel_locale == "pa_Guru"
    assert by_code["so"].provider == "azure"  # LibreTranslate and DeepL lack Somali
    assert by_code["pa-Arab"].provider == "none"  # people only


@pytest.fixture
def app_config(tmp_path):
    extra = tmp_path / "languages.toml"
    extra.write_text('[[language]]\ncode = "ti"\nname = "Tigrinya"\nnative_name = "ትግርኛ"\n'
                     'provider = "none"\n', encoding="utf-8")
    return {"LANGUAGES_FILE": str(extra), "LANGUAGES": "en,ur,pa-Guru,pa-Arab,ti"}


def test_adding_a_language_is_configuration(app, client):
    assert [language.code for language in enabled_languages()] == [
        "en", "ur", "pa-Guru", "pa-Arab", "ti"]
    assert get_language("TI").native_name == "ትግርኛ"
    assert get_language("pl") is None  # not switched on here
    page = client.get("/language?code=ti", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="ti" dir="ltr">' in page  # no catalog yet: English text


@pytest.mark.parametrize(("header", "lang", "direction"), [
    ("pa-PK,en;q=0.5", "pa-Arab", "rtl"),
    ("pa-IN", "pa-Guru", "ltr"),
    ("pa", "pa-Guru", "ltr"),
    ("ur-PK,en;q=0.8", "ur", "rtl"),
    ("de-DE,fr;q=0.9", "en", "ltr"),
])
def test_accept_language_is_the_first_guess(client, header, lang, direction):
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in page


def test_choice_beats_profile_beats_browser(client, make_user, sign_in_as):
    user = make_user()
    user.language = "pa-Guru"
    db.session.commit()
    signed_in = sign_in_as(user)
    page = signed_in.get("/", headers={"Accept-Language": "ur"}).get_data(as_text=True)
    assert '<html lang="pa-Guru" dir="ltr">' in page
    assert "ਮੁੱਖ ਸਮੱਗਰੀ" in page
    signed_in.get("/language?code=pa-Arab")
    page = signed_in.get("/").get_data(as_text=True)
    assert '<html lang="pa-Arab" dir="rtl">' in page


def test_the_languages_page_shows_review_status_and_invites_corrections(client, make_org):
    make_org(kind="vcse", name="Apna Health Forum")
    page = client.get("/languages").get_data(as_text=True)
    assert "Draft: not yet checked by a speaker" in page
    assert "Apna Health Forum" in page
    assert 'lang="pa-Arab" dir="rtl"' in page
    assert "Translated by people" in page  # Shahmukhi has no machine provider
