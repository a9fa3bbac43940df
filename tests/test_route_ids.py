"""Ids in addresses and forms out of the database's range give 404 or 400, never 500
(issue 13, item 11: 2147483648 gave NumericValueOutOfRange on PostgreSQL).

Every route with an ``<int:...>`` part is found in the app's url_map, so a new one is
covered without being listed here."""

from __future__ import annotations

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from feedback.core.ids import MAX_ID, IdConverter, parse_id
from tests.conftest import login

TOO_BIG = [str(2**31), str(2**63), "9" * 40]
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")


def _int_routes(app):
    routes = []
    for rule in app.url_map.iter_rules():
        converters = rule._converters  # werkzeug keeps each argument's converter here
        if any(isinstance(c, IntegerConverter) for c in converters.values()):
            routes.append(rule)
    return routes


def _url(rule, number: str) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = number
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "x"
    url = rule.rule
    for name, value in values.items():
        url = url.replace(f"<{_argument(rule, name)}>", value)
    return url


def _argument(rule, name: str) -> str:
    """The text between < and > for argument ``name`` in the rule's pattern."""
    import re

    for match in re.finditer(r"<([^>]+)>", rule.rule):
        inside = match.group(1)
        if inside.split(":")[-1] == name:
            return inside
    raise AssertionError(f"{name} not in {rule.rule}")


def test_the_int_converter_is_ours_on_every_route(app):
    routes = _int_routes(app)
    assert len(routes) >= 30
    for rule in routes:
        for converter in rule._converters.values():
            if isinstance(converter, IntegerConverter):
                assert isinstance(converter, IdConverter), rule.rule


@pytest.mark.parametrize("number", [*TOO_BIG, "0"])
def test_every_int_id_route_says_404_to_an_id_out_of_range(app, client, make_user, number):
    admin = make_user(role="admin")
    login(client, admin)
    checked = 0
    for rule in _int_routes(app):
        url = _url(rule, number)
        for method in sorted(set(rule.methods or ()) & set(METHODS)):
            response = client.open(url, method=method)
            assert response.status_code in (404, 405), (method, url, response.status_code)
            checked += 1
    assert checked >= 30


def test_the_largest_id_is_looked_up_and_not_found(app, client, make_user):
    """The top of the range reaches the database (and PostgreSQL's INTEGER holds it)."""
    login(client, make_user(role="admin"))
    for rule in _int_routes(app):
        if "GET" not in (rule.methods or ()):
            continue
        response = client.get(_url(rule, str(MAX_ID)))
        assert response.status_code < 500, (rule.rule, response.status_code)


def test_ids_typed_into_forms_are_checked_the_same_way():
    assert parse_id("42") == 42
    assert parse_id(str(MAX_ID)) == MAX_ID
    for bad in [None, "", "0", "-1", "4.2", "٤٢", str(MAX_ID + 1), str(2**63), " ", "1e3"]:
        assert parse_id(bad) is None, bad

