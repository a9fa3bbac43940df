"""Anonymous public pages are cached per address and language, with an ETag and
Cache-Control a proxy can use; publishing, editing or withdrawing clears them; signed-in
people never get, or leave behind, a cached page."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from feedback.extensions import db
from feedback.updates import services


@pytest.fixture
def app_config():
    return {"PAGE_CACHE_SECONDS": 60, "WTF_CSRF_ENABLED": True}  # as in production


def _statements(client, path, **kwargs):
    seen = []

    def record(*args):
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(path, **kwargs)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return response, seen


@pytest.mark.parametrize("path", ["/", "/updates", "/updates?topic=sickle-cell",
                                  "/updates.atom", "/updates/{slug}", "/api/v1/updates",
                                  "/api/v1/updates?per_page=5&lang=cy", "/api/v1/updates/{id}"])
def test_an_anonymous_page_is_made_once_then_served_from_the_cache(client, make_update,
                                                                    path):
    update = make_update(title="Interpreters at the sickle cell clinic")
    path = path.format(slug=update.slug, id=update.id)
    first = client.get(path)
    again, statements = _statements(client, path)
    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data() and statements == []
    assert again.headers["ETag"] == first.headers["ETag"]
    control = again.headers["Cache-Control"]
    assert "public" in control and "max-age=60" in control
    assert "stale-while-revalidate=60" in control
    assert "Cookie" in again.headers["Vary"]
    unchanged = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""


def test_an_api_request_with_a_token_is_never_served_from_the_cache(client, make_update):
    make_update(title="Interpreters at the sickle cell clinic")
    client.get("/api/v1/updates")
    response, statements = _statements(client, "/api/v1/updates",
                                       headers={"Authorization": "Bearer not-a-token"})
    assert statements, "a request carrying a token is answered afresh"
    assert "public" not in response.headers.get("Cache-Control", "")


def test_publishing_editing_and_withdrawing_clear_the_cache(client, make_update, editor):
    first = make_update(title="First update about maternity care")
    assert "First update about maternity care" in client.get("/updates").get_data(
        as_text=True)
    make_update(title="Second update about interpreters")
    assert "Second update about interpreters" in client.get("/updates").get_data(
        as_text=True)
    services.update_update(editor, first, {"title": "Maternity care, corrected"},
                           "Corrected the title.")
    db.session.commit()
    assert "Maternity care, corrected" in client.get(f"/updates/{first.slug}").get_data(
        as_text=True)
    services.withdraw_update(editor, first, "The figures were wrong.")
    db.session.commit()
    assert "The figures were wrong." in client.get(f"/updates/{first.slug}").get_data(
        as_text=True)


def test_a_change_that_is_rolled_back_keeps_the_cache(client, make_update, editor):
    update = make_update(title="Update that stays")
    client.get("/updates")
    services.update_update(editor, update, {"title": "A title never saved"}, "Retitled.")
    db.session.rollback()
    _response, statements = _statements(client, "/updates")
    assert statements == []


def test_each_language_has_its_own_page(client, make_update):
    make_update()
    english = client.get("/updates", headers={"Accept-Language": "en"})
    welsh = client.get("/updates", headers={"Accept-Language": "cy"})
    assert english.get_data() != welsh.get_data()
    assert 'lang="cy"' in welsh.get_data(as_text=True)


def test_signed_in_pages_are_never_cached_or_shared(client, make_update, login_as,
                                                    make_user):
    make_update(title="Update everyone can read")
    anonymous = client.get("/updates")
    person = make_user(name="Amina Signed-In")
    login_as(person)
    signed_in, statements = _statements(client, "/updates")
    assert statements, "a signed-in page is made afresh"
    assert "Sign out" in signed_in.get_data(as_text=True)
    assert "public" not in signed_in.headers["Cache-Control"]
    assert "no-store" in signed_in.headers["Cache-Control"]
    assert "private" in signed_in.headers["Cache-Control"]
    assert "ETag" not in signed_in.headers
    with client.session_transaction() as session:
        session.clear()
    after = client.get("/updates")
    assert after.get_data() == anonymous.get_data()
    assert "Sign out" not in after.get_data(as_text=True)


def test_a_page_with_a_message_waiting_is_made_afresh(client, make_update):
    make_update()
    client.get("/updates")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Thank you for subscribing")]
    response, statements = _statements(client, "/updates")
    assert "Thank you for subscribing" in response.get_data(as_text=True)
    assert statements and "no-store" in response.headers["Cache-Control"]


# Served before Flask: a visitor with no cookie and no Authorization header --------------

@pytest.fixture
def reached_flask(app, monkeypatch):
    """The requests that got past the page cache's middleware to Flask, by path."""
    pages = app.extensions["page_cache"]
    reached = []

    def flask_app(environ, start_response):
        reached.append(environ["PATH_INFO"])
        return flask_wsgi_app(environ, start_response)

    flask_wsgi_app = pages.wsgi_app
    monkeypatch.setattr(pages, "wsgi_app", flask_app)
    return reached


def _headers(response) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in response.headers.items()
                  if name not in ("Date", "Server-Timing"))


@pytest.mark.parametrize("path", ["/", "/updates?topic=sickle-cell", "/updates/{slug}",
                                  "/updates.atom", "/api/v1/updates?per_page=5",
                                  "/api/v1/updates?per_page=5&lang=cy"])
def test_a_page_has_the_same_headers_however_it_is_served(client, make_update, reached_flask,
                                                         path):
    update = make_update(title="Interpreters at the sickle cell clinic")
    path = path.format(slug=update.slug)
    made = client.get(path)
    before_flask = client.get(path)
    assert reached_flask == [path.split("?")[0]], "the second request never reached Flask"
    with client.session_transaction() as session:
        # A session cookie: the page comes from Flask's side (already marked not fresh
        # by Flask-Login, as after a visitor's first request with it).
        session.update({"language": "en", "_fresh": False})
    through_flask = client.get(path)
    assert len(reached_flask) == 2
    assert made.status_code == before_flask.status_code == through_flask.status_code == 200
    assert made.get_data() == before_flask.get_data() == through_flask.get_data()
    assert _headers(made) == _headers(before_flask) == _headers(through_flask)
    assert made.headers["Content-Security-Policy"].startswith("default-src 'self'")
    for name in ("X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy",
                 "Cross-Origin-Opener-Policy", "X-Frame-Options", "ETag"):
        assert name in before_flask.headers
    assert before_flask.headers["Cache-Control"] == "public, max-age=60, " \
                                                   "stale-while-revalidate=60"
    assert before_flask.headers["Vary"] == "Cookie, Accept-Language"
    assert int(before_flask.headers["Content-Length"]) == len(before_flask.get_data())


def test_head_and_not_modified_before_flask(client, make_update, reached_flask):
    make_update()
    page = client.get("/updates")
    head = client.head("/updates")
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == page.headers["Content-Length"]
    assert head.headers["ETag"] == page.headers["ETag"]
    unchanged = client.get("/updates", headers={"If-None-Match": page.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == page.headers["ETag"]
    assert "Content-Security-Policy" in unchanged.headers
    assert "Content-Type" not in unchanged.headers
    changed = client.get("/updates", headers={"If-None-Match": '"another-page"'})
    assert changed.status_code == 200 and changed.get_data() == page.get_data()
    assert reached_flask == ["/updates"]


def test_the_browser_language_picks_the_cached_page(client, make_update, reached_flask):
    make_update()
    for _ in range(2):
        welsh = client.get("/updates", headers={"Accept-Language": "cy"})
        english = client.get("/updates", headers={"Accept-Language": "en-GB,en;q=0.8"})
        assert 'lang="cy"' in welsh.get_data(as_text=True)
        assert 'lang="en"' in english.get_data(as_text=True)
    assert len(reached_flask) == 2, "each language made once, then served before Flask"
    assert client.get("/updates", headers={"Accept-Language": "cy-GB, en;q=0.5"}).get_data() \
        == welsh.get_data()
    assert client.get("/updates").get_data() == english.get_data()  # the site default
    assert len(reached_flask) == 2


def test_a_language_chosen_in_the_session_picks_its_own_page(client, make_update,
                                                             reached_flask):
    make_update()
    english = client.get("/updates", headers={"Accept-Language": "en"})
    with client.session_transaction() as session:
        session.update({"language": "cy", "_fresh": False})
    response, statements = _statements(client, "/updates", headers={"Accept-Language": "en"})
    assert 'lang="cy"' in response.get_data(as_text=True)
    assert response.get_data() != english.get_data()
    again, statements = _statements(client, "/updates", headers={"Accept-Language": "en"})
    assert statements == [] and again.get_data() == response.get_data()
    assert len(reached_flask) == 3


@pytest.mark.parametrize("cookie, headers", [
    ("remember_token", {}),  # Flask-Login signs people in from it with no session
    ("session", {}),
    ("", {"Authorization": "Bearer fbk_not-a-token"}),
])
def test_a_cookie_or_a_token_always_goes_to_flask(client, make_update, reached_flask,
                                                  cookie, headers):
    make_update()
    client.get("/api/v1/updates")
    if cookie:
        client.set_cookie(cookie, "anything")
    client.get("/api/v1/updates", headers=headers)
    assert reached_flask == ["/api/v1/updates"] * 2


def test_a_signed_in_person_never_gets_the_page_made_for_visitors(client, make_update,
                                                                   login_as, make_user,
                                                                   reached_flask):
    make_update(title="Update everyone can read")
    client.get("/updates")
    client.get("/updates")
    login_as(make_user(name="Amina Signed-In"))
    signed_in = client.get("/updates")
    assert "Sign out" in signed_in.get_data(as_text=True)
    assert "private" in signed_in.headers["Cache-Control"]
    assert reached_flask == ["/updates", "/updates"]


def test_a_flash_message_is_shown_though_the_page_is_cached(client, make_update,
                                                            reached_flask):
    make_update()
    client.get("/updates")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Thank you for subscribing")]
    response = client.get("/updates")
    assert "Thank you for subscribing" in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]
    assert reached_flask == ["/updates", "/updates"]


def test_a_page_with_a_rate_limit_is_never_answered_before_flask(make_app):
    from feedback.core.caching import cached_page
    from feedback.extensions import limiter

    app = make_app(PAGE_CACHE_SECONDS=60, RATELIMIT_ENABLED=True)

    @app.get("/limited-page")
    @limiter.limit("2 per minute")
    @cached_page()
    def limited_page():
        return "A page anyone may read twice a minute"

    with app.app_context():
        client = app.test_client()
        assert [client.get("/limited-page").status_code for _ in range(3)] == [200, 200, 429]


def test_pages_served_before_flask_are_counted_and_timed(make_app):
    from tests.test_metrics import scrape

    app = make_app(PAGE_CACHE_SECONDS=60, METRICS_TOKEN="scrape-me", SERVER_TIMING=True)
    with app.app_context():
        client = app.test_client()
        key = ("feedback_request_duration_seconds_count",
               (("endpoint", "updates.list_updates"), ("method", "GET")))
        before = scrape(client).get(key, 0)
        made = client.get("/updates")
        served = client.get("/updates")
        assert not made.headers["Server-Timing"].endswith('db;desc="0 queries"')
        assert served.headers["Server-Timing"].endswith('db;desc="0 queries"')
        assert made.headers["Server-Timing"] != served.headers["Server-Timing"]
        assert scrape(client)[key] == before + 2


def test_a_cached_page_that_sets_a_cookie_is_sent_private(client, make_update):
    make_update()
    client.get("/updates")
    with client.session_transaction() as session:
        session["language"] = "en"  # Flask-Login marks this session not fresh, once
    changed = client.get("/updates")
    assert "Set-Cookie" in changed.headers
    assert changed.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in changed.headers
    steady = client.get("/updates")
    assert "Set-Cookie" not in steady.headers and "public" in steady.headers["Cache-Control"]
