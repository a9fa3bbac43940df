"""Static files: the stylesheets and scripts pages link to carry a hash of their content,
so browsers keep them for a year; files reached only from inside them for an hour."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from feedback.core.assets import VERSIONED_MAX_AGE

STATIC = Path(__file__).resolve().parents[2] / "feedback" / "static"


def _linked_assets(html: str) -> dict[str, str]:
    return dict(re.findall(r'(?:href|src)="/static/([^"?]+)\?v=([0-9a-f]+)"', html))


def test_pages_link_their_stylesheets_and_scripts_by_content_hash(client):
    linked = _linked_assets(client.get("/").get_data(as_text=True))
    assert {"nhsuk/nhsuk-frontend.min.css", "fonts/fonts.css", "css/app.css",
            "js/app.js"} <= set(linked)
    for filename, version in linked.items():
        content = (STATIC / filename).read_bytes()
        assert version == hashlib.blake2b(content, digest_size=5).hexdigest(), filename


def test_a_linked_asset_is_kept_for_a_year_and_others_for_an_hour(client):
    [(filename, version)] = [item for item in _linked_assets(
        client.get("/").get_data(as_text=True)).items() if item[0] == "css/app.css"]
    linked = client.get(f"/static/{filename}?v={version}")
    assert linked.status_code == 200
    assert linked.cache_control.max_age == VERSIONED_MAX_AGE
    assert linked.cache_control.public
    font = client.get("/static/fonts/noto-nastaliq-urdu-arabic-400-normal.woff2")
    assert font.status_code == 200 and font.cache_control.max_age == 3600


@pytest.mark.parametrize("app_config", [{"DEBUG": True}])
def test_while_developing_files_are_always_checked_again(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.cache_control.no_cache and response.cache_control.max_age is None
