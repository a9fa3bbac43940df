"""Reading: home, the list with filters and search, feeds, update pages and the
organisation, dataset and service pages that list updates."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlparse

import pytest

ATOM = "{http://www.w3.org/2005/Atom}"


def test_home_shows_the_latest_updates(client, make_update):
    make_update()
    page = client.get("/").get_data(as_text=True)
    assert "Latest updates" in page
    assert "Faster pain relief for sickle cell crises in A&amp;E" in page


def test_the_list_filters_searches_and_links_to_the_feed(client, make_update):
    make_update()
    make_update(title="Diabetes foot checks at weekends", summary="Saturday clinics.",
                body="", what_changed="", who_benefits="", topics=["Diabetes"])
    page = client.get("/updates?topic=diabetes").get_data(as_text=True)
    assert "Diabetes foot checks at weekends" in page
    assert "Faster pain relief" not in page
    assert 'href="/updates.atom?topic=diabetes"' in page
    page = client.get("/updates?q=saturday").get_data(as_text=True)
    assert "Diabetes foot checks" in page and "Faster pain relief" not in page


@pytest.mark.parametrize("query", [
    "organisation=nobody", "dataset=nothing", "service=none", "topic=unknown-topic",
    "area=atlantis", "community=nobody-at-all", "q=zzzzqqq", "q=%22%29%28*+OR+NEAR",
    "priority=12345",
])
def test_unknown_filter_values_give_an_empty_list(client, make_update, query):
    make_update()
    response = client.get(f"/updates?{query}")
    assert response.status_code == 200
    assert "No updates match" in response.get_data(as_text=True)
    feed = client.get(f"/updates.atom?{query}")
    assert feed.status_code == 200
    assert ET.fromstring(feed.data).findall(f"{ATOM}entry") == []


@pytest.mark.parametrize("query", ["kind=rumour", "cursor=abc", "priority=-1",
                                   "topic=" + "x" * 100, "cursor=99999999999999999999-1"])
def test_bad_filter_values_give_a_400_not_a_500(client, query):
    assert client.get(f"/updates?{query}").status_code == 400
    assert client.get(f"/api/v1/updates?{query}").status_code == 400
    if "cursor" not in query:  # feeds have no pages
        assert client.get(f"/updates.atom?{query}").status_code == 400


def test_pages_of_the_list_follow_the_cursor(client, make_update):
    for number in range(23):
        make_update(title=f"Update {number:02d}")
    first = client.get("/updates").get_data(as_text=True)
    assert "Update 22" in first and "Update 02" not in first
    next_link = first.split('nhsuk-pagination__link--next" href="')[1].split('"')[0]
    cursor = parse_qs(urlparse(next_link.replace("&amp;", "&")).query)["cursor"][0]
    second = client.get(f"/updates?cursor={cursor}").get_data(as_text=True)
    assert "Update 02" in second and "Update 00" in second and "Update 22" not in second


def test_the_atom_feed_lists_filtered_updates(client, make_update):
    make_update()
    response = client.get("/updates.atom?topic=sickle-cell")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    [entry] = root.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text.startswith("Faster pain relief")
    assert entry.find(f"{ATOM}link").get("href") == (
        "http://localhost/updates/faster-pain-relief-for-sickle-cell-crises-in-a-e")
    assert "<strong>over an hour</strong>" in entry.find(f"{ATOM}content").text


def test_the_update_page_shows_data_change_evidence_and_transparency(client, make_update):
    update = make_update()
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    for text in ["Sickle cell emergency attendances", "Emergency department",
                 "A fast-track for sickle cell pain crises.", "Black Caribbean families",
                 "<strong>over an hour</strong>", 'href="https://example.org/audit"',
                 "Direct care and service evaluation.", "https://www.nhs.uk/your-nhs-data-matters/",
                 "Not applicable"]:
        assert text in page, text
    assert f'href="/datasets/{update.datasets[0].slug}"' in page


def test_share_links_and_the_qr_code(client, make_update):
    update = make_update()
    page = client.get(f"/updates/{update.slug}").get_data(as_text=True)
    whatsapp = page.split('data-testid="share-whatsapp"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert whatsapp.startswith("https://wa.me/?text=")
    assert "http%3A%2F%2Flocalhost%2Fupdates%2F" + update.slug in whatsapp
    assert 'href="mailto:?subject=Faster%20pain%20relief' in page
    qr = client.get(f"/updates/{update.slug}/qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data and b"<script" not in qr.data
    assert 'class="app-print-qr"' in page


def test_drafts_are_hidden_from_everyone_but_the_organisation(client, sign_in_as, editor,
                                                              make_user, make_update):
    draft = make_update(publish=False)
    assert client.get(f"/updates/{draft.slug}").status_code == 404
    assert client.get(f"/updates/{draft.slug}/qr.svg").status_code == 404
    sign_in_as(make_user())
    assert client.get(f"/updates/{draft.slug}").status_code == 404
    sign_in_as(editor)
    assert "Only your organisation" in client.get(f"/updates/{draft.slug}").get_data(
        as_text=True)


def test_organisation_dataset_and_service_pages_list_their_updates(client, make_update,
                                                                   trust, dataset, service):
    make_update()
    for path in [f"/organisations/{trust.slug}", f"/datasets/{dataset.slug}",
                 f"/services/{service.slug}"]:
        page = client.get(path).get_data(as_text=True)
        assert "What this has led to" in page, path
        assert "Faster pain relief" in page, path

