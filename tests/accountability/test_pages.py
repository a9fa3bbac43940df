"""The public accountability pages: an organisation's record and the platform page."""

from __future__ import annotations

import re


def test_organisation_page_shows_figures_chart_and_table(client, scenario):
    response = client.get("/organisations/riverside/accountability")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="updates-published">3<' in html
    assert 'data-testid="response-share">2 (67%)<' in html
    assert 'data-testid="median-response">15 days<' in html
    assert 'data-testid="answered-share">2 (67%)<' in html
    assert 'data-testid="median-answer">6 days<' in html
    assert 'data-testid="askers">*<' in html
    # An accessible chart with its table beside it.
    assert re.search(r'<div class="app-chart" id="chart-quarters" role="img"', html)
    assert '<span id="chart-quarters-title" hidden>Updates published each quarter</span>' \
        in html
    table = html.split('data-testid="quarters"')[1].split("</table>")[0]
    assert "Q2 2026</td><td class=\"nhsuk-table__cell\">0<" in table  # in the reader's language
    # Promised and delivered, with the linked update.
    promised = html.split('<h2 id="promised">')[1]
    assert "Priority 1" in promised and "/updates/july" in promised
    assert "No update about this yet." in promised


def test_empty_organisation_page_says_so(client, scenario):
    html = client.get("/organisations/quiet-partner/accountability").get_data(as_text=True)
    assert 'data-testid="median-response">\u2013<' in html
    assert "No updates published yet." in html and "Nothing promised yet." in html


def test_unknown_organisation_is_404(client, app):
    assert client.get("/organisations/nobody/accountability").status_code == 404


def test_platform_page_compares_without_ranking(client, scenario):
    response = client.get("/accountability")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for key in ("updates", "responses", "answers"):
        assert f'id="chart-{key}" role="img"' in html
        assert f'data-testid="table-{key}"' in html
    comparison = html.split('data-testid="comparison"')[1]
    assert comparison.index("Quiet Partner") < comparison.index("Riverside Hospitals")
    text = re.sub(r"<[^>]+>", " ", html).lower()
    for word in ("league", "rank", "best", "worst", "top ", "bottom"):
        assert word not in text


def test_organisation_page_links_to_its_record(client, scenario):
    html = client.get("/organisations/riverside").get_data(as_text=True)
    assert 'href="/organisations/riverside/accountability"' in html
