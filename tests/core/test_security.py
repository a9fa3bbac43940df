"""Security baseline: headers, CSRF, input checks, rate limits, error pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from feedback.accounts.models import SignInToken
from feedback.extensions import db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PUBLIC_PAGES = ["/", "/organisations", "/datasets", "/services", "/sign-in", "/accessibility",
                "/privacy", "/language", "/no-such-page"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_page_sends_a_strict_content_security_policy(client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script found"
    assert " style=" not in html and " on" + "click=" not in html


def test_no_template_has_inline_script_or_style():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text), path


def test_forms_are_refused_without_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        response = client.post("/sign-in", data={"email": "someone@example.org"})
        assert response.status_code == 400
        assert "form expired" in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count(SignInToken.id))) == 0
        page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
            re.search(r'name="csrf_token" value="([^"]+)"', page)
        response = client.post("/sign-in", data={"email": "someone@example.org",
                                                 "csrf_token": token.group(1)})
        assert response.status_code == 302


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"email=%FF%FE%40example.org", "not valid UTF-8"),
     (b"email=a%00b%40example.org", "control characters"),
     (b"email=a%1Bb%40example.org", "control characters")],
)
def test_invalid_utf8_and_control_characters_get_a_clear_400(client, body, message):
    response = client.post("/sign-in", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SignInToken.id))) == 0


def test_bad_query_strings_get_a_400_too(client):
    assert client.get("/organisations?kind=%FF").status_code == 400


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_error_pages_are_friendly(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    response = client.delete("/")
    assert response.status_code == 405


@pytest.fixture
def limited_client(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SIGNIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        yield app.test_client()


def test_sign_in_requests_are_rate_limited(limited_client):
    statuses = [limited_client.post("/sign-in", data={"email": f"p{n}@example.org"}).status_code
                for n in range(4)]
    assert statuses == [302, 302, 302, 429]
    response = limited_client.post("/sign-in", data={"email": "p9@example.org"})
    assert "too many times" in response.get_data(as_text=True)
    # Reading the page is not limited.
    assert limited_client.get("/sign-in").status_code == 200


def test_session_cookies_are_http_only_and_lax(client, make_user):
    from tests.conftest import login

    login(client, make_user())
    response = client.get("/account")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert response.status_code == 200


def test_production_cookies_are_secure(make_app):
    app = make_app(ENV="production", SECRET_KEY="x" * 40)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    with app.test_client() as client:
        response = client.get("/healthz")
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def _redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.mark.skipif(not _redis_available(REDIS_URL), reason=f"no Redis at {REDIS_URL}")
def test_two_web_workers_share_rate_limit_counters_through_redis(make_app):
    import uuid

    import redis

    # A visitor address of its own, so counts from other runs never mix with these.
    visitor = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    settings = {"RATELIMIT_ENABLED": True, "SIGNIN_RATE_LIMIT": "3 per minute",
                "RATELIMIT_STORAGE_URI": REDIS_URL}
    worker_one, worker_two = make_app(**settings), make_app(**settings)
    try:
        statuses = []
        for number in range(4):
            worker = worker_one if number % 2 == 0 else worker_two
            with worker.app_context():
                statuses.append(worker.test_client().post(
                    "/sign-in", data={"email": f"p{number}@example.org"},
                    environ_base={"REMOTE_ADDR": visitor}).status_code)
        assert statuses == [302, 302, 302, 429]
    finally:
        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(f"*{visitor}*"):
            connection.delete(key)
