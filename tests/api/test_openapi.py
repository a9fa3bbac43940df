"""The OpenAPI document matches the implementation: schemathesis generates requests from
it for every operation and checks each response against it, in-process on the WSGI app.
(Driven through Hypothesis directly: schemathesis' pytest plugin does not support
pytest 9 yet.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

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


@pytest.mark.parametrize(("path", "method"), OPERATIONS + PRIORITY_OPERATIONS)
def test_the_api_matches_its_openapi_document(app, make_update, auth, path, method):
    make_update()  # something to read, and a dataset and service to refer to
    make_update(publish=False, title="A draft")
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]

    # A write can be schema-valid and still refused (400/409): it may name a dataset that
    # is not in the catalogue, or publish an update twice. Every other check applies.
    excluded = [positive_data_acceptance] if method != "GET" else []

    @given(case=operation.as_strategy())
    @settings(max_examples=10, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers=auth, excluded_checks=excluded)

    check()
