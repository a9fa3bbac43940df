"""Open data downloads: header rows match the dictionary, rows are the public ones, and
the response streams."""

from __future__ import annotations

import csv
import io
import json

from feedback.accountability.opendata import TABLES


def test_csv_and_json_match_the_dictionary(client, scenario):
    dictionary = client.get("/open-data").get_data(as_text=True)
    for name, table in TABLES.items():
        columns = [c.name for c in table.columns]
        section = dictionary.split(f'data-testid="dictionary-{name}"')[1].split("</section>")[0]
        assert [part.split("<")[0] for part in section.split('data-testid="column">')[1:]] \
            == columns

        response = client.get(f"/open-data/{name}.csv")
        assert response.status_code == 200 and response.is_streamed
        assert response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert rows[0] == columns
        assert rows[1:], f"{name} should have rows in the scenario"

        response = client.get(f"/open-data/{name}.json")
        assert response.status_code == 200 and response.is_streamed
        items = json.loads(response.get_data(as_text=True))
        assert items and all(list(item) == columns for item in items)
        assert len(items) == len(rows) - 1


def test_dictionary_states_the_licence(client, app):
    html = client.get("/open-data").get_data(as_text=True)
    assert "Open Government Licence v3.0" in html
    assert "open-government-licence/version/3/" in html


def test_updates_download_leaves_out_drafts(client, scenario):
    items = json.loads(client.get("/open-data/updates.json").get_data(as_text=True))
    assert sorted(i["slug"] for i in items) == ["february", "january", "july"]
    july = next(i for i in items if i["slug"] == "july")
    assert july["published_at"].startswith("2026-07-10T12:00:00")
    assert july["answers_priority_id"] == scenario.priorities[0].id
    assert july["kind"] == "finding"


def test_responses_and_results_are_published_figures_only(client, scenario):
    responses = json.loads(client.get("/open-data/responses.json").get_data(as_text=True))
    assert [(r["priority_title"], r["response_status"]) for r in responses] == [
        ("Priority 1", "will_research"), ("Priority 2", "in_progress")]
    results = list(csv.DictReader(io.StringIO(
        client.get("/open-data/results.csv").get_data(as_text=True))))
    assert {r["voters"] for r in results} == {"10"}  # 9 ballots, rounded
    assert {r["chose"] for r in results} == {"0"}


def test_csv_booleans_and_empty_values(client, scenario):
    rows = list(csv.DictReader(io.StringIO(
        client.get("/open-data/organisations.csv").get_data(as_text=True))))
    riverside = next(r for r in rows if r["slug"] == "riverside")
    assert riverside["verified"] in {"true", "false"}
    assert riverside["ods_code"] == ""


def test_unknown_table_is_404(client, app):
    assert client.get("/open-data/users.csv").status_code == 404


def test_link_tables_say_which_datasets_and_services_each_public_update_used(
        client, scenario):
    updates = {i["id"]: i["slug"] for i in json.loads(
        client.get("/open-data/updates.json").get_data(as_text=True))}
    datasets = {i["id"]: i["slug"] for i in json.loads(
        client.get("/open-data/datasets.json").get_data(as_text=True))}
    links = json.loads(client.get("/open-data/update_datasets.json").get_data(as_text=True))
    assert links and all(link["update_id"] in updates for link in links)
    assert all(link["dataset_id"] in datasets for link in links)
    assert {updates[link["update_id"]] for link in links} == set(updates.values())
    services = json.loads(client.get("/open-data/update_services.json").get_data(as_text=True))
    # The draft also uses the service, but drafts are never published.
    assert [updates[link["update_id"]] for link in services] == ["february"]
