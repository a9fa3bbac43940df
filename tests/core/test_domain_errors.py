"""Services raise domain exceptions; the web layer answers 404/403/400 pages, JSON under
/api/, and the CLI a message with a non-zero exit."""

from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l

from feedback.accounts.permissions import PermissionDenied
from feedback.core.exceptions import Forbidden, NotFound, ValidationError, found
from feedback.organisations import services as organisations
from feedback.priorities import services as priorities
from feedback.updates import services as updates


def test_lookups_raise_not_found_outside_a_request(app):
    with app.app_context():
        with pytest.raises(NotFound):
            organisations.get_organisation("no-such-organisation")
        with pytest.raises(NotFound):
            updates.get_update(0)
        with pytest.raises(NotFound):
            priorities.get_round("no-such-round")
        assert found(1) == 1


def test_permission_denied_is_forbidden():
    assert issubclass(PermissionDenied, Forbidden)
    assert issubclass(ValidationError, ValueError)  # callers that catch ValueError still do


@pytest.fixture
def raising_app(make_app):
    application = make_app()

    def raiser(kind: str):
        raise {"missing": NotFound(), "forbidden": Forbidden(_l("Only editors can do that.")),
               "invalid": ValidationError(_l("Enter a title."), "title")}[kind]

    application.add_url_rule("/domain-error/<kind>", view_func=raiser)
    application.add_url_rule("/api/domain-error/<kind>", "api_raiser", view_func=raiser)
    return application


@pytest.mark.parametrize(("kind", "status", "message"), [
    ("missing", 404, None), ("forbidden", 403, "Only editors can do that."),
    ("invalid", 400, "Enter a title.")])
def test_domain_exceptions_become_error_pages_and_json(raising_app, kind, status, message):
    client = raising_app.test_client()
    page = client.get(f"/domain-error/{kind}")
    assert page.status_code == status
    assert page.mimetype == "text/html"
    if message:
        assert message in page.get_data(as_text=True)
    answer = client.get(f"/api/domain-error/{kind}")
    assert answer.status_code == status
    assert answer.json["errors"][0]["status"] == status
    if message:
        assert answer.json["errors"][0]["detail"] == message


def test_a_missing_organisation_is_a_404_page(client):
    assert client.get("/organisations/no-such-organisation").status_code == 404


def test_cli_reports_a_missing_organisation_and_exits_non_zero(runner):
    result = runner.invoke(args=["tokens", "create", "--org", "no-such-organisation"])
    assert result.exit_code == 1
    assert "No organisation with the short name 'no-such-organisation'" in result.output


def test_cli_reports_a_missing_account(runner):
    result = runner.invoke(args=["grant-platform-translator", "nobody@example.org", "cy"])
    assert result.exit_code == 1
    assert "No account for nobody@example.org" in result.output
