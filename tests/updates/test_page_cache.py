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
