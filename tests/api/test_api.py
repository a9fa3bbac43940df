"""JSON API v1: reading with filters and pages, writing with organisation tokens, and
the `feedback tokens` commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from feedback.api.models import ApiToken
from feedback.core.tokens import hash_token
from feedback.core.validation import ValidationError
from feedback.delivery.services import deliver_due
from feedback.extensions import db
from tests.updates.conftest import update_data

BASE = "http://localhost"  # FEEDBACK_BASE_URL in the tests


def detail(response) -> str:
    [error] = response.json["errors"]
    assert error["status"] == response.status_code
    return error["detail"]


def source(response) -> dict | None:
    return response.json["errors"][0]["source"]


def test_a_trust_publishes_through_the_api_and_readers_find_it(client, auth, dataset,
                                                               service, outbox, make_user):
    from feedback.updates import services

    follower = make_user(email="follower@example.org")
    services.follow(follower, "dataset", dataset.id)
    db.session.commit()
    body = update_data(dataset, service)
    body["datasets"] = [dataset.slug]  # slugs work as well as ids
    created = client.post("/api/v1/updates", json=body, headers=auth)
    assert created.status_code == 201, created.json
    data = created.json["data"]
    assert data["status"] == "draft" and data["datasets"][0]["slug"] == dataset.slug
    assert created.headers["Location"] == f"{BASE}/api/v1/updates/{data['id']}"
    assert created.json["links"]["self"] == f"{BASE}/api/v1/updates"
    assert client.get(f"/api/v1/updates/{data['id']}").status_code == 404  # drafts hidden
    assert client.get(f"/api/v1/updates/{data['id']}", headers=auth).status_code == 200

    published = client.post(f"/api/v1/updates/{data['id']}/publish", headers=auth)
    assert published.json["data"]["status"] == "published"
    assert outbox.messages() == []  # queued with the publication, sent by a worker
    assert deliver_due() == 1
    assert outbox.last()["To"] == "follower@example.org"

    found = client.get("/api/v1/updates?topic=sickle-cell&q=pain").json
    assert [u["id"] for u in found["data"]] == [data["id"]]
    assert found["data"][0]["body_html"] == (
        "<h2>What we found</h2>\n<p>People waited <strong>over an hour</strong> on average.</p>")
    assert client.get(f"/updates.atom?dataset={dataset.slug}").data.count(b"<entry>") == 1

    no_note = client.patch(f"/api/v1/updates/{data['id']}", json={"title": "New"},
                           headers=auth)
    assert no_note.status_code == 400 and source(no_note) == {"pointer": "/change_note"}
    edited = client.patch(f"/api/v1/updates/{data['id']}",
                          json={"title": "New title", "change_note": "Shorter title"},
                          headers=auth)
    assert edited.json["data"]["title"] == "New title"
    assert edited.json["data"]["revisions"][0]["change_note"] == "Shorter title"

    withdrawn = client.post(f"/api/v1/updates/{data['id']}/withdraw",
                            json={"reason": "Superseded"}, headers=auth)
    assert withdrawn.json["data"]["status"] == "withdrawn"
    locked = client.patch(f"/api/v1/updates/{data['id']}",
                          json={"title": "x", "change_note": "x"}, headers=auth)
    assert locked.status_code == 409 and "withdrawn" in detail(locked)


def test_a_draft_can_be_deleted_through_the_api_but_a_published_update_cannot(
        client, auth, dataset, service, make_update):
    draft = client.post("/api/v1/updates", json=update_data(dataset, service),
                        headers=auth).json["data"]
    assert client.delete(f"/api/v1/updates/{draft['id']}").status_code == 401
    deleted = client.delete(f"/api/v1/updates/{draft['id']}", headers=auth)
    assert deleted.status_code == 204 and deleted.data == b""
    assert client.get(f"/api/v1/updates/{draft['id']}", headers=auth).status_code == 404
    assert client.delete(f"/api/v1/updates/{draft['id']}", headers=auth).status_code == 404

    published = make_update()
    refused = client.delete(f"/api/v1/updates/{published.id}", headers=auth)
    assert refused.status_code == 409 and "withdraw" in detail(refused)
    assert client.get(f"/api/v1/updates/{published.id}").json["data"]["status"] == "published"


def test_pages_of_the_api_list(client, make_update):
    ids = [make_update(title=f"Update {n}").id for n in range(5)]
    first = client.get("/api/v1/updates?per_page=2").json
    assert [u["id"] for u in first["data"]] == ids[:-3:-1]
    assert first["meta"] == {"next_cursor": first["meta"]["next_cursor"], "per_page": 2}
    second = client.get(first["links"]["next"].removeprefix(BASE)).json
    assert [u["id"] for u in second["data"]] == ids[-3:-5:-1]


def test_write_errors_are_clear_json(client, auth, dataset, make_org):
    assert client.post("/api/v1/updates", json={}).status_code == 401
    bad = client.post("/api/v1/updates", json={"title": "x"},
                      headers={"Authorization": "Bearer fbk_wrong"})
    assert bad.status_code == 401 and detail(bad).startswith("Send a live")
    assert client.post("/api/v1/updates", data="x", headers=auth).status_code == 415
    assert client.post("/api/v1/updates", json=[1], headers=auth).status_code == 400
    unknown = client.post("/api/v1/updates", json={"colour": "red"}, headers=auth)
    assert unknown.status_code == 400 and source(unknown) == {"pointer": "/colour"}
    too_long = client.post("/api/v1/updates", json=update_data(dataset, body="a" * 50_001),
                           headers=auth)
    assert too_long.status_code == 400
    assert "50,000 characters or fewer" in detail(too_long)
    wrong_type = client.post("/api/v1/updates", json=update_data(dataset, title=["x"]),
                             headers=auth)
    assert wrong_type.status_code == 400 and source(wrong_type) == {"pointer": "/title"}
    assert client.get("/api/v1/nothing-here").json["errors"][0]["status"] == 404


def test_a_token_only_writes_its_own_organisations_updates(client, make_org, make_dataset,
                                                           make_update):
    from feedback.api import tokens

    other = make_org(name="Other Trust")
    other_token, _ = tokens.create_token(None, other)
    db.session.commit()
    update = make_update()
    headers = {"Authorization": f"Bearer {other_token}"}
    for method, path, body in [
            ("patch", f"/api/v1/updates/{update.id}", {"title": "x", "change_note": "x"}),
            ("post", f"/api/v1/updates/{update.id}/withdraw", {"reason": "x"}),
            ("post", f"/api/v1/updates/{update.id}/publish", None)]:
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code == 403, path
    assert client.get(f"/api/v1/updates/{update.id}").json["data"]["title"] == update.title


def test_catalogue_endpoints(client, trust, dataset, service):
    organisations = client.get("/api/v1/organisations?kind=nhs").json
    assert [o["slug"] for o in organisations["data"]] == [trust.slug]
    assert client.get("/api/v1/organisations?kind=alien").status_code == 400
    assert client.get(f"/api/v1/datasets?organisation={trust.slug}").json["data"][0][
        "slug"] == dataset.slug
    assert client.get("/api/v1/services?organisation=nobody").json["data"] == []
    assert client.get(f"/api/v1/services/{service.slug}").json["data"]["name"] == (
        "Emergency department")
    assert client.get("/api/v1/datasets/nothing").status_code == 404


def test_tokens_cli_creates_lists_and_revokes(runner, client, trust, dataset):
    result = runner.invoke(args=["tokens", "create", "--org", trust.slug, "--name", "ETL"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert token.startswith("fbk_")
    record = db.session.scalar(select(ApiToken))
    assert record.token_hash == hash_token(token) and token not in record.token_hash
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/updates", json=update_data(dataset),
                       headers=headers).status_code == 201

    listed = runner.invoke(args=["tokens", "list", "--org", trust.slug])
    assert record.prefix in listed.output and token not in listed.output
    assert runner.invoke(args=["tokens", "revoke", str(record.id)]).exit_code == 0
    assert client.post("/api/v1/updates", json=update_data(dataset),
                       headers=headers).status_code == 401
    assert runner.invoke(args=["tokens", "create", "--org", "nobody"]).exit_code != 0


def test_ids_beyond_the_integer_range_are_404_not_500(client, auth, make_user):
    from feedback.updates import services

    huge = 2**40
    assert client.get(f"/api/v1/updates/{huge}").status_code == 404
    assert client.post(f"/api/v1/updates/{huge}/publish", headers=auth).status_code == 404
    assert client.get(f"/api/v1/updates?cursor=1700000000000000-{huge}").status_code == 200
    assert client.get(f"/api/v1/updates?priority={huge}").status_code == 400
    with pytest.raises(ValidationError):
        services.follow(make_user(), "dataset", huge)


def test_published_results_are_numbers_with_suppressed_counts_null_and_explained(
        client, published_round):
    """10 of 12 voters chose the first priority (published as 10 of 10: 100 %); 2 chose the
    second, a count hidden by small-number suppression: null, with the reason."""
    answer = client.get(f"/api/v1/rounds/{published_round.slug}/results").json
    assert answer["links"] == {
        "self": f"{BASE}/api/v1/rounds/{published_round.slug}/results", "next": None}
    assert "null" in answer["meta"]["suppression"]
    results = answer["data"]
    assert results["voters"] == 10 and results["suppressed"] == {}
    first, second, third = results["priorities"]
    assert (first["chose"], first["percentage"], first["suppressed"]) == (10, 100, {})
    assert (second["chose"], second["percentage"]) == (None, None)
    assert second["suppressed"] == {"chose": "fewer than 8",
                                    "percentage": "worked out from a count of fewer than 8"}
    assert (third["chose"], third["percentage"], third["suppressed"]) == (0, 0, {})
    assert second["points"] is None and "points" not in second["suppressed"]  # not ranked
    [method] = [b for b in results["breakdowns"] if b["key"] == "method"]
    online = method["categories"][0]
    assert online["voters"] == 10 and isinstance(online["priorities"][0]["chose"], int)


def test_every_api_answer_uses_the_one_envelope(client, published_round, make_update):
    update = make_update()
    for url in ("/api/v1/updates", f"/api/v1/updates/{update.id}", "/api/v1/organisations",
                "/api/v1/datasets", "/api/v1/services", "/api/v1/rounds",
                f"/api/v1/rounds/{published_round.slug}",
                f"/api/v1/rounds/{published_round.slug}/priorities"):
        answer = client.get(url).json
        assert set(answer) == {"data", "links", "meta"}, url
        assert answer["links"]["self"].startswith(f"{BASE}/api/v1/"), url
    for url in ("/api/v1/rounds/no-such-round", "/api/v1/priorities/2147483648",
                "/api/v1/nothing", "/api/v1/updates?per_page=x"):
        answer = client.get(url)
        [error] = answer.json["errors"]
        assert set(error) == {"status", "code", "title", "detail", "source"}, url
        assert error["status"] == answer.status_code and isinstance(error["status"], int)


def test_error_messages_come_in_the_language_asked_for(client):
    """``?lang=`` (the content's language) decides; without it, Accept-Language. The
    code and source stay the same for programs."""
    missing = client.get("/api/v1/organisations/nobody?lang=ur")
    [error] = missing.json["errors"]
    assert error["detail"] == "اس نام کی کوئی تنظیم نہیں ہے۔"  # noqa: RUF001
    assert error["title"] == "نہیں ملا" and error["code"] == "not_found"
    polish = client.get("/api/v1/datasets/nothing", headers={"Accept-Language": "pl"})
    assert detail(polish) == "Nie ma zbioru danych o tej nazwie."
    bad_lang = client.get("/api/v1/updates?lang=xx", headers={"Accept-Language": "cy"})
    assert detail(bad_lang).startswith("Rhaid i lang fod yn un o: ")
    assert source(bad_lang) == {"parameter": "lang"}
    assert detail(client.get("/api/v1/rounds/nothing-here/results?lang=bn")) != ""
    english = client.get("/api/v1/updates?per_page=0")
    assert detail(english) == "per_page must be a whole number from 1 to 100."
    urdu = client.get("/api/v1/updates?per_page=0", headers={"Accept-Language": "ur"})
    assert detail(urdu) == "per_page 1 سے 100 تک کا کوئی پورا عدد ہونا چاہیے۔"  # noqa: RUF001
