"""The shipped catalogs are complete and match the interface text, and /languages says
how much of each is translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from feedback.core.languages import DEFAULT_LANGUAGES
from feedback.translation.catalogs import TRANSLATIONS_DIR, catalog_coverage


def test_the_message_template_is_up_to_date_with_the_source(tmp_path):
    """`make translations-update` was run after the last change to interface text, so the
    catalogs (and the coverage on /languages) describe the text people actually see."""
    from babel.messages.frontend import CommandLineInterface

    root = TRANSLATIONS_DIR.parents[1]
    extracted = tmp_path / "messages.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(root / "babel.cfg"), "-k", "_l",
        "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2", "--no-location",
        "-o", str(extracted), str(root)])

    def ids(path: Path) -> set:
        with path.open("rb") as handle:
            return {message.id for message in read_po(handle) if message.id}

    shipped = ids(TRANSLATIONS_DIR / "messages.pot")
    current = ids(extracted)
    assert sorted(current - shipped, key=str) == [], "run make translations-update"
    assert sorted(shipped - current, key=str) == [], "run make translations-update"


@pytest.mark.parametrize("language", [language for language in DEFAULT_LANGUAGES
                                      if language.code != "en"], ids=lambda lang: lang.code)
def test_every_default_catalog_translates_every_message(language):
    coverage = catalog_coverage()[language.babel_locale]
    assert coverage.total > 1000
    assert coverage.translated == coverage.total


def test_the_languages_page_shows_how_much_of_each_catalog_is_translated(client):
    page = client.get("/languages").get_data(as_text=True)
    assert 'data-testid="coverage-ur">100% of the website' in page
    assert 'data-testid="coverage-en"' not in page


def test_coverage_never_rounds_up_to_complete():
    from feedback.translation.catalogs import CatalogCoverage

    assert CatalogCoverage(999, 1000).share == 0.99
    assert not CatalogCoverage(999, 1000).complete
    assert CatalogCoverage(1000, 1000).share == 1.0
