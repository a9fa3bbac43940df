"""The OpenAPI document matches the implementation: schemathesis generates requests from
it for every operation and checks each response against it, in-process on the WSGI app.
(Driven through Hypothesis directly: schemathesis' pytest plugin does not support
pytest 9 yet.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from feedback.extensions import db

OPERATIONS = [
    ("/updates", "GET"), ("/updates", "POST"), ("/updates/{update_id}", "GET"),
    ("/updates/{update_id}", "PATCH"), ("/updates/{update_id}", "DELETE"),
    ("/updates/{update_id}/publish", "POST"),
    ("/updates/{update_id}/withdraw", "POST"), ("/organisations", "GET"),
    ("/organisations/{slug}", "GET"), ("/datasets", "GET"), ("/datasets/{slug}", "GET"),
    ("/services", "GET"), ("/services/{slug}", "GET"),
]
# The research priorities package's read endpoints, in the same document.
PRIORITY_OPERATIONS = [
    ("/rounds", "GET"), ("/rounds/{slug}", "GET"), ("/rounds/{slug}/priorities", "GET"),
    ("/rounds/{slug}/results", "GET"), ("/priorities/{priority_id}", "GET"),
]


def test_the_document_is_openapi_3_1_and_lists_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    routes = {(rule.rule.removeprefix("/api/v1").replace("<int:update_id>", "{update_id}")
               .replace("<slug>", "{slug}"), method)
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - {("/openapi.json", "GET")} == set(OPERATIONS)
    priority_routes = {(rule.rule.removeprefix("/api/v1").replace("<slug>", "{slug}")
                        .replace("<int:priority_id>", "{priority_id}"), method)
                       for rule in app.url_map.iter_rules()
                       if rule.endpoint.startswith("priorities_api.")
                       for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert priority_routes == set(PRIORITY_OPERATIONS)
    documented = {(path, method.upper()) for path, item in document["paths"].items()
                  for method in item if method != "parameters"}
    assert documented == set(OPERATIONS) | set(PRIORITY_OPERATIONS)


# Each operation's statuses, each reached by one request: (status, how). ``w`` holds the
# objects below; ``auth`` is trust Riverside's token.
BIG = "x" * 1_000_001


def _cases(w) -> dict[tuple[str, str], dict[int, Callable[[Any], Any]]]:
    auth, json = w["auth"], {"title": "Changed", "change_note": "Shorter"}
    pub, draft, other, gone = w["published"].id, w["draft"].id, w["other"].id, w["withdrawn"].id
    round_ = w["round"].slug
    big = {"data": BIG, "headers": {**auth, "Content-Type": "application/json"}}
    return {
        ("/updates", "GET"): {200: lambda c: c.get("/api/v1/updates"),
                              400: lambda c: c.get("/api/v1/updates?per_page=0")},
        ("/updates", "POST"): {
            201: lambda c: c.post("/api/v1/updates", json=w["body"], headers=auth),
            400: lambda c: c.post("/api/v1/updates", json={"colour": 1}, headers=auth),
            401: lambda c: c.post("/api/v1/updates", json=w["body"]),
            413: lambda c: c.post("/api/v1/updates", **big),
            415: lambda c: c.post("/api/v1/updates", data="x", headers=auth)},
        ("/updates/{update_id}", "GET"): {
            200: lambda c: c.get(f"/api/v1/updates/{pub}"),
            400: lambda c: c.get(f"/api/v1/updates/{pub}?lang=xx"),
            404: lambda c: c.get(f"/api/v1/updates/{draft}")},  # drafts: owner only
        ("/updates/{update_id}", "PATCH"): {
            200: lambda c: c.patch(f"/api/v1/updates/{pub}", json=json, headers=auth),
            400: lambda c: c.patch(f"/api/v1/updates/{pub}", json={"title": "x"},
                                   headers=auth),  # no change note
            401: lambda c: c.patch(f"/api/v1/updates/{pub}", json=json),
            403: lambda c: c.patch(f"/api/v1/updates/{other}", json=json, headers=auth),
            404: lambda c: c.patch("/api/v1/updates/999999", json=json, headers=auth),
            409: lambda c: c.patch(f"/api/v1/updates/{gone}", json=json, headers=auth),
            413: lambda c: c.patch(f"/api/v1/updates/{pub}", **big),
            415: lambda c: c.patch(f"/api/v1/updates/{pub}", data="x", headers=auth)},
        ("/updates/{update_id}", "DELETE"): {
            401: lambda c: c.delete(f"/api/v1/updates/{draft}"),
            403: lambda c: c.delete(f"/api/v1/updates/{other}", headers=auth),
            404: lambda c: c.delete("/api/v1/updates/999999", headers=auth),
            409: lambda c: c.delete(f"/api/v1/updates/{pub}", headers=auth),
            204: lambda c: c.delete(f"/api/v1/updates/{draft}", headers=auth)},
        ("/updates/{update_id}/publish", "POST"): {
            401: lambda c: c.post(f"/api/v1/updates/{draft}/publish"),
            403: lambda c: c.post(f"/api/v1/updates/{other}/publish", headers=auth),
            404: lambda c: c.post("/api/v1/updates/999999/publish", headers=auth),
            409: lambda c: c.post(f"/api/v1/updates/{pub}/publish", headers=auth),
            413: lambda c: c.post(f"/api/v1/updates/{draft}/publish", **big),
            200: lambda c: c.post(f"/api/v1/updates/{draft}/publish", headers=auth)},
        ("/updates/{update_id}/withdraw", "POST"): {
            400: lambda c: c.post(f"/api/v1/updates/{pub}/withdraw", json={}, headers=auth),
            401: lambda c: c.post(f"/api/v1/updates/{pub}/withdraw", json={"reason": "x"}),
            403: lambda c: c.post(f"/api/v1/updates/{other}/withdraw", json={"reason": "x"},
                                  headers=auth),
            404: lambda c: c.post("/api/v1/updates/999999/withdraw", json={"reason": "x"},
                                  headers=auth),
            409: lambda c: c.post(f"/api/v1/updates/{draft}/withdraw", json={"reason": "x"},
                                  headers=auth),
            413: lambda c: c.post(f"/api/v1/updates/{pub}/withdraw", **big),
            415: lambda c: c.post(f"/api/v1/updates/{pub}/withdraw", data="x", headers=auth),
            200: lambda c: c.post(f"/api/v1/updates/{pub}/withdraw", json={"reason": "Old"},
                                  headers=auth)},
        **{(f"/{kind}", "GET"): {200: lambda c, k=kind: c.get(f"/api/v1/{k}"),
                                 400: lambda c, k=kind: c.get(f"/api/v1/{k}?per_page=101")}
           for kind in ("organisations", "datasets", "services")},
        **{(f"/{kind}/{{slug}}", "GET"): {
            200: lambda c, k=kind: c.get(f"/api/v1/{k}/{w[k]}"),
            400: lambda c, k=kind: c.get(f"/api/v1/{k}/{w[k]}?lang=xx"),
            404: lambda c, k=kind: c.get(f"/api/v1/{k}/no-such-thing")}
           for kind in ("organisations", "datasets", "services")},
        ("/rounds", "GET"): {200: lambda c: c.get("/api/v1/rounds")},
        ("/rounds/{slug}", "GET"): {200: lambda c: c.get(f"/api/v1/rounds/{round_}"),
                                    404: lambda c: c.get("/api/v1/rounds/no-such-round")},
        ("/rounds/{slug}/priorities", "GET"): {
            200: lambda c: c.get(f"/api/v1/rounds/{round_}/priorities"),
            404: lambda c: c.get(f"/api/v1/rounds/{w['draft_round']}/priorities")},
        ("/rounds/{slug}/results", "GET"): {
            200: lambda c: c.get(f"/api/v1/rounds/{round_}/results"),
            404: lambda c: c.get(f"/api/v1/rounds/{w['draft_round']}/results")},
        ("/priorities/{priority_id}", "GET"): {
            200: lambda c: c.get(f"/api/v1/priorities/{w['priority']}"),
            404: lambda c: c.get("/api/v1/priorities/999999")},
    }


WRITES = [operation for operation in OPERATIONS if operation[1] != "GET"]


@pytest.fixture(name="w")
def w_fixture(app, auth, trust, dataset, service, make_org, make_dataset, make_update,
              published_round, editor):
    from feedback.priorities import services as priorities
    from feedback.updates import services as updates
    from tests.updates.conftest import update_data

    other_org = make_org(name="Other Trust")
    withdrawn = make_update(title="Old news")
    updates.withdraw_update(None, withdrawn, "Superseded")
    draft_round = priorities.create_round(editor, [trust], {
        "title": "Not yet", "scope": "Questions about patient data?", "topics": "pain",
        "area": "Leeds", "groups": ["patients"]})
    db.session.commit()
    shortlist = priorities.current_shortlist(published_round)
    return {"auth": auth, "body": update_data(dataset, service),
            "published": make_update(), "draft": make_update(publish=False, title="A draft"),
            "other": make_update(org=other_org, datasets=[make_dataset(other_org)]),
            "withdrawn": withdrawn, "round": published_round, "draft_round": draft_round.slug,
            "priority": shortlist.entries[0].priority_id, "organisations": trust.slug,
            "datasets": dataset.slug, "services": service.slug}


def documented_statuses(document, path: str, method: str) -> set[int]:
    return {int(status) for status in document["paths"][path][method.lower()]["responses"]}


@pytest.mark.parametrize(("path", "method"), OPERATIONS + PRIORITY_OPERATIONS)
def test_each_operation_returns_exactly_its_documented_statuses(app, client, make_app, w,
                                                                path, method):
    """Every documented status is reached, each answer matches the document (envelope and
    all), and 429 is reached for writes on an app with the limit on."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    cases = _cases(w)[(path, method)]
    for status, how in cases.items():
        response = how(client)
        db.session.rollback()
        assert response.status_code == status, (status, response.get_data(as_text=True)[:300])
        operation.validate_response(response)
        if status >= 400:
            [error] = response.json["errors"]
            assert error["status"] == status and error["detail"]
        elif status != 204:
            assert response.json["links"]["self"].startswith("http://localhost/api/v1/")
    reached = set(cases)
    if (path, method) in WRITES:
        limited = make_app(RATELIMIT_ENABLED=True, API_WRITE_RATE_LIMIT="1 per minute")
        limited_client = limited.test_client()
        first = limited_client.post("/api/v1/updates", json={}, headers=w["auth"])
        assert first.status_code != 429
        url = path.replace("{update_id}", "999999")
        refused = limited_client.open(f"/api/v1{url}", method=method, json={},
                                      headers=w["auth"])
        assert refused.status_code == 429, refused.status_code
        assert refused.json["errors"][0]["code"] == "too_many_requests"
        reached.add(429)
    assert reached == documented_statuses(client.get("/api/v1/openapi.json").json,
                                          path, method)


@pytest.mark.slow
@pytest.mark.parametrize(("path", "method"), OPERATIONS + PRIORITY_OPERATIONS)
def test_the_api_matches_its_openapi_document(app, make_update, auth, published_round, path,
                                              method):
    """Schemathesis, with Hypothesis' health checks on: 100 generated requests per
    operation, writes sent with a real token, every response checked against the
    document. Marked slow: CI runs it in its own step, on SQLite only."""
    make_update()  # something to read, and a dataset and service to refer to
    make_update(publish=False, title="A draft")
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]

    # A write can be schema-valid and still refused (400/409): it may name a dataset that
    # is not in the catalogue, or publish an update twice. Every other check applies.
    excluded = [positive_data_acceptance] if method != "GET" else []

    @given(case=operation.as_strategy())
    @settings(max_examples=100, deadline=None, database=None, derandomize=True)
    def check(case):
        case.call_and_validate(headers=auth, excluded_checks=excluded)

    check()
