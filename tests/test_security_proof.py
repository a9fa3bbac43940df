"""Security across every domain: CSRF on every form that writes, the CSP header on every
HTML page, rate limits on the forms that can be abused, links that cannot be guessed or
forged, and hostile strings that are either stored and shown back exactly or refused."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import g

from feedback.extensions import db
from tests.conftest import login
from tests.test_authorisation_matrix import (  # noqa: F401 (world_fixture is a fixture)
    MATRIX,
    build_url,
    world_fixture,
    writing_rules,
)

# CSRF --------------------------------------------------------------------------------------

# Called by machines with their own credentials, never from a browser form.
# One-click unsubscribe (RFC 8058) is posted by mail clients, authenticated by its signed link.
CSRF_EXEMPT = {"/delivery/notify/receipts", "/subscriptions/notify/inbound",
               "/subscriptions/unsubscribe/<token>", "/following/stop/<token>"}


def test_every_form_refuses_a_post_without_a_csrf_token(app, client, world):
    from tests.test_authorisation_matrix import snapshot

    protected = sorted(rule for rule in writing_rules(app)
                       if not rule.startswith("/api/") and rule not in CSRF_EXEMPT)
    app.config["WTF_CSRF_ENABLED"] = True  # Flask-WTF reads it on every request
    login(client, world["people"]["owner"])
    before = snapshot()
    for rule in protected:
        url = build_url(rule, world)
        for method in writing_rules(app)[rule]:
            response = client.open(url, method=method, data={"name": "x"})
            assert response.status_code == 400, f"{method} {rule} without a CSRF token"
            assert "form expired" in response.get_data(as_text=True), rule
    db.session.rollback()
    assert snapshot() == before


# CSP on every page -------------------------------------------------------------------------

def _get_urls(app, world) -> dict[str, str]:
    """Every GET route we can build a URL for from the world's objects."""
    extra = {"code": "ur", "language": "en", "kind": "html", "number": "1", "name": "none",
             "filename": "css/app.css", "audience_id": "1", "target_id": "1",
             "edition_id": str(world["ids"]["edition"]), "update_id": "1"}
    values = {**world["ids"], **extra}
    urls = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        url = rule.rule
        for converter, name in re.findall(r"<(?:([^:<>]+):)?([a-z_]+)>", rule.rule):
            key = {"slug": _slug_for(rule.rule), "priority_id": "priority",
                   "question_id": "question", "answer_id": "answer", "segment_id": "segment",
                   "membership_id": "membership", "grant_id": "grant",
                   "suggestion_id": "suggestion", "paper_id": "paper"}.get(name, name)
            value = values.get(key, "1")
            if converter.startswith("any("):
                value = converter[4:-1].split(",")[0].strip()
            url = re.sub(r"<[^<>]*" + name + ">", str(value), url, count=1)
        urls[rule.rule] = url
    return urls


def _slug_for(rule: str) -> str:
    for prefix, key in [("/organisations/", "trust"), ("/partners/", "partner"),
                        ("/datasets/", "dataset"), ("/services/", "service"),
                        ("/updates/", "update"), ("/priorities/rounds/", "round"),
                        ("/admin/organisations/", "trust"), ("/api/v1/organisations/", "trust"),
                        ("/api/v1/datasets/", "dataset"), ("/api/v1/services/", "service"),
                        ("/api/v1/rounds/", "round")]:
        if rule.startswith(prefix):
            return key
    return "trust"


@pytest.mark.parametrize("role", ["anonymous", "owner", "admin"])
def test_every_html_page_sends_the_content_security_policy(app, client, world, role):
    if role != "anonymous":
        login(client, world["people"][role])
    html_pages = 0
    for rule, url in sorted(_get_urls(app, world).items()):
        g.pop("_login_user", None)
        response = client.get(url)
        assert response.status_code < 500, f"GET {url} ({rule}) answered {response.status_code}"
        if response.mimetype == "text/html":
            html_pages += 1
            policy = response.headers.get("Content-Security-Policy", "")
            assert "default-src 'self'" in policy or "default-src" in policy, url
            assert "'unsafe-inline'" not in policy.split("script-src")[-1].split(";")[0], url
            assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert html_pages >= 30


# Rate limits -------------------------------------------------------------------------------

@pytest.fixture
def limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SIGNIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        yield app.test_client()


def test_subscribing_is_rate_limited(limited):
    statuses = [limited.post("/subscribe", data={"email": f"s{n}@example.org",
                                                 "language": "en", "cadence": "weekly"}
                             ).status_code for n in range(4)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429


# Links that cannot be guessed, forged or reused ------------------------------------------

def test_subscriber_links_are_signed_and_a_forged_one_changes_nothing(app, client, outbox):
    from feedback.subscriptions.models import Subscriber
    from feedback.subscriptions.services import signed_token

    client.post("/subscribe", data={"email": "reader@example.org", "language": "en",
                                    "cadence": "weekly"})
    confirm = next(link for link in outbox.links() if "/subscribe/confirm/" in link)
    assert client.post(confirm.replace("http://localhost", "")).status_code == 303
    subscriber = db.session.scalar(sa.select(Subscriber))
    before = (subscriber.status, subscriber.confirmed_at)
    genuine = signed_token(subscriber.id)
    for forged in [genuine[:-2] + ("aa" if not genuine.endswith("aa") else "bb"),
                   str(subscriber.id), "1.abc", genuine.replace(".", "", 1)]:
        response = client.post(f"/subscriptions/unsubscribe/{forged}")
        assert response.status_code in (200, 400, 404, 410)
        db.session.refresh(subscriber)
        assert (subscriber.status, subscriber.confirmed_at) == before, forged
    # A confirmation link is single-use: using it again does not confirm anything new.
    again = client.get(confirm.replace("http://localhost", ""))
    assert again.status_code < 500


# Hostile strings ---------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "Robert'); DROP TABLE users;--",
    "' OR '1'='1",
    "100% _under_ \\ backslash",
    "\u202eevil.exe\u202c",
    "zero\u200bwidth\u200djoiner\ufeff",
    "Emoji 🧬👩🏽‍⚕️🏳️‍🌈",
    "اردو متن ساتھ English",
    "{{ 7*7 }} {% raw %}",
]
TOO_LONG = "x" * 10_000


def _assert_shown_exactly(client, url: str, value: str) -> None:
    from markupsafe import escape

    page = client.get(url).get_data(as_text=True)
    assert str(escape(value)) in page, f"{value!r} not shown back exactly on {url}"
    assert "<script>alert(1)</script>" not in page


def test_hostile_names_are_stored_and_shown_back_exactly(app, client, world):
    from feedback.organisations.models import Dataset

    login(client, world["people"]["owner"])
    url = f"/datasets/{world['ids']['dataset']}/edit"
    stored = 0
    for value in HOSTILE:
        response = client.post(url, data={"name": value, "description": value})
        assert response.status_code in (302, 400), f"{value!r}: {response.status_code}"
        if response.status_code == 400:
            assert "nhsuk-error-summary" in response.get_data(as_text=True)
            continue
        stored += 1
        dataset = db.session.scalar(sa.select(Dataset).where(Dataset.name == value))
        assert dataset is not None and dataset.description == value
        _assert_shown_exactly(client, f"/datasets/{dataset.slug}", value)
        url = f"/datasets/{dataset.slug}/edit"
    assert stored >= len(HOSTILE) - 2


def test_hostile_questions_are_stored_exactly(app, client, world):
    from feedback.updates.models import Question

    login(client, world["people"]["member"])
    for value in HOSTILE:
        response = client.post(f"/updates/{world['ids']['update']}/questions",
                               data={"body": f"Question: {value}"})
        assert response.status_code in (302, 400), f"{value!r}: {response.status_code}"
        if response.status_code == 302:
            assert db.session.scalar(sa.select(Question).where(
                Question.body == f"Question: {value}")) is not None


def test_ten_thousand_characters_are_refused_with_a_message(app, client, world):
    from tests.test_authorisation_matrix import snapshot

    login(client, world["people"]["owner"])
    before = snapshot()
    for path, field in [("/datasets/{dataset}/edit", "name"),
                        ("/datasets/{dataset}/edit", "description"),
                        ("/updates/{update}/questions", "body"),
                        ("/account", "display_name"),
                        ("/organisations/{trust}/edit", "name"),
                        ("/partners/{partner}/newsletter", "intro")]:
        data = {"name": "Records", "description": "About", "body": "Hello", "kind": "nhs",
                "display_name": "Me", "language": "en", "languages": ["en"], field: TOO_LONG}
        response = client.post(path.format(**world["ids"]), data=data)
        assert response.status_code == 400, f"{path} {field}: {response.status_code}"
        assert "nhsuk-error-summary" in response.get_data(as_text=True)
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize("email", ["reader@example.org\r\nBcc: victim@example.org",
                                   "reader@example.org\nSubject: hi",
                                   "<script>@example.org"])
def test_crlf_in_email_addresses_never_reaches_a_header(client, outbox, email):
    for path in ["/subscribe", "/sign-in"]:
        response = client.post(path, data={"email": email, "language": "en",
                                           "cadence": "weekly"})
        assert response.status_code < 500
    for message in outbox.messages():
        for header in ("To", "Subject", "From"):
            assert "\n" not in str(message[header] or "")
            assert "victim@example.org" not in str(message[header] or "")
        assert message["Bcc"] is None


def test_crlf_in_a_name_never_reaches_an_email_header(app, client, world, outbox):
    login(client, world["people"]["owner"])
    client.post("/account", data={"display_name": "Eve\r\nBcc: victim@example.org",
                                  "language": "en"})
    client.post(f"/partners/{world['ids']['partner']}/newsletter", data={
        "name": "News", "sender_name": "Eve\r\nBcc: victim@example.org", "languages": ["en"],
        "cadence": "weekly"})
    client.post(f"/newsletter/editions/{world['ids']['edition']}/test")
    for message in outbox.messages():
        assert message["Bcc"] is None
        for header in ("To", "From", "Subject", "Reply-To"):
            assert "victim@example.org" not in str(message[header] or "")


def test_hostile_api_fields_never_cause_a_server_error(app, client, world):
    from tests.updates.conftest import update_data

    headers = {"Authorization": f"Bearer {world['tokens']['owner']}"}
    dataset = db.session.scalar(sa.select(sa.text("id")).select_from(sa.text("datasets"))
                                .limit(1))
    base = update_data(type("D", (), {"id": dataset})(), None)
    for value in [*HOSTILE, TOO_LONG]:
        for field in ("title", "summary", "body"):
            response = client.post("/api/v1/updates", json={**base, field: value},
                                   headers=headers)
            assert response.status_code in (201, 400, 422), f"{field}={value[:30]!r}"
            if value is TOO_LONG and field != "body":
                assert response.status_code in (400, 422), field
            elif response.status_code == 201:
                assert response.get_json()["data"][field] == value, field


def test_the_matrix_lists_routes_the_crawl_covers(app, world):
    # Every writing route in the matrix is one we can build a URL for (used above).
    for rule in MATRIX:
        assert "{" not in build_url(rule, world)
