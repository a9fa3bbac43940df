"""Print kits in any enabled language, the embeddable widget and share cards."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from feedback.extensions import db


@pytest.fixture
def app_config():
    return {"LANGUAGES": "en,ur,pl", "BASE_URL": "https://feedback.example.org"}


def qr_sources(html: str) -> list[str]:
    return re.findall(r'<img src="(data:image/svg\+xml[^"]+)"', html)


def test_update_leaflet_in_urdu(client, scenario):
    response = client.get("/print/updates/january?lang=ur")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in html
    assert 'data-testid="leaflet-title"' in html and "Update january" in html
    assert len(qr_sources(html)) == 2  # the page and the subscribe page
    assert ("https://feedback.example.org/language?code=ur&amp;next=/updates/january"
            in html)
    assert "https://feedback.example.org/language?code=ur&amp;next=/subscribe" in html
    # The chooser offers every enabled language.
    assert re.findall(r'<option value="(\w+)"', html) == ["en", "ur", "pl"]


def test_leaflet_in_the_default_language_links_straight_to_the_page(client, scenario):
    html = client.get("/print/updates/january").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    assert "https://feedback.example.org/updates/january" in html


def test_leaflet_language_does_not_change_the_readers_choice(client, scenario):
    client.get("/print/updates/january?lang=ur")
    assert '<html lang="en"' in client.get("/accountability").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/print/updates/draft", "/print/updates/january?lang=xx",
                                  "/print/updates/nothing"])
def test_no_leaflet_for_drafts_or_unknown_languages(client, scenario, path):
    assert client.get(path).status_code == 404


def test_round_and_priority_leaflets(client, scenario):
    html = client.get("/print/rounds/sickle-cell?lang=pl").get_data(as_text=True)
    assert '<html lang="pl"' in html and "Sickle cell priorities" in html
    assert "Priority 3" in html and len(qr_sources(html)) == 2
    assert "next=/priorities/rounds/sickle-cell" in html

    priority = scenario.priorities[0]
    html = client.get(f"/print/priorities/{priority.id}?lang=ur").get_data(as_text=True)
    assert "We will fund a study." in html
    assert 'data-testid="leaflet-result"' in html
    assert f"next=/priorities/{priority.id}" in html


def test_digest_edition_leaflet(client, scenario):
    from feedback.digests.models import Edition, EditionStatus, EditionVersion
    from feedback.subscriptions.models import Audience

    audience = Audience(name="Birmingham news", languages=["en"])
    edition = Edition(audience=audience, period="2026-W10", status=EditionStatus.SENT,
                      until=datetime(2026, 3, 9, tzinfo=UTC),
                      items=[{"title": "Faster pain relief", "summary": "Now 30 minutes.",
                              "url": "https://feedback.example.org/updates/january",
                              "organisation": "Riverside Hospitals"}])
    edition.versions = [EditionVersion(language="en", subject="News for March",
                                       html="<p>x</p>", text="x")]
    db.session.add(edition)
    db.session.commit()
    html = client.get(f"/print/editions/{edition.id}?lang=ur").get_data(as_text=True)
    assert "Faster pain relief" in html and "News for March" not in html
    assert f"next=/digests/editions/{edition.id}/en" in html
    assert len(qr_sources(html)) == 2


def test_widget_is_embeddable_and_tracks_no_one(client, scenario):
    from feedback.updates import services
    from feedback.updates.models import Term, TermKind

    topic = Term(kind=TermKind.TOPIC, slug="sickle-cell", name="Sickle cell")
    scenario.updates[0].terms.append(topic)
    db.session.commit()
    response = client.get("/widget/updates?topic=sickle-cell&lang=ur")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "script-src 'self'" in csp
    assert "X-Frame-Options" not in response.headers
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert "<script" not in html and '<html lang="ur" dir="rtl">' in html
    items = html.split('data-testid="widget-items"')[1].split("</ul>")[0]
    assert "Update january" in items and "Update february" not in items
    assert 'target="_blank"' in items
    assert services.list_terms(TermKind.TOPIC)  # the builder can offer it


def test_widget_builder_gives_a_snippet(client, scenario):
    html = client.get("/widget?topic=sickle-cell&lang=pl").get_data(as_text=True)
    snippet = html.split('data-testid="snippet">')[1].split("</textarea>")[0]
    assert snippet.startswith("&lt;iframe src=&#34;https://feedback.example.org/widget/updates?")
    assert "topic=sickle-cell" in snippet and "lang=pl" in snippet
    assert "referrerpolicy=&#34;no-referrer&#34;" in snippet


def test_other_pages_are_not_embeddable(client, scenario):
    assert "frame-ancestors 'none'" in client.get("/accountability").headers[
        "Content-Security-Policy"]


def test_open_graph_tags(client, scenario):
    html = client.get("/updates/january").get_data(as_text=True)
    assert '<meta property="og:title" content="Update january">' in html
    assert '<meta property="og:description" content="Summary of january">' in html
    assert ('<meta property="og:url" content="https://feedback.example.org/updates/january">'
            in html)
    assert 'href="/print/updates/january"' in html
    assert '<meta property="og:site_name" content="Feedback Loop">' in html
    assert '<meta property="og:locale" content="en">' in html
    urdu = client.get("/updates/january", headers={"Accept-Language": "ur"}).get_data(
        as_text=True)
    assert '<meta property="og:locale" content="ur">' in urdu

    priority = scenario.priorities[0]
    html = client.get(f"/priorities/{priority.id}").get_data(as_text=True)
    assert '<meta property="og:title" content="Priority 1">' in html
    assert '<meta property="og:description" content="We will fund a study.">' in html

    html = client.get("/priorities/rounds/sickle-cell/results").get_data(as_text=True)
    assert '<meta property="og:title" content="Results: Sickle cell priorities">' in html
