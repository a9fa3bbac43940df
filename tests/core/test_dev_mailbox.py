"""The development mailbox shows every sign-in link (issue 13, item 13): only platform
admins, or a browser on the same machine in development, may open it, and it does not
exist in production."""

from __future__ import annotations

import pytest

from tests.conftest import login

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.fixture
def mail(client, outbox):
    """A sign-in email in the development mailbox, and its file name."""
    client.post("/sign-in", data={"email": "admin@example.org"})
    [path] = list(outbox.folder.glob("*.eml"))
    return path.name, outbox.links()[0]


def test_readers_on_other_machines_cannot_open_it(app, mail, make_user):
    name, link = mail
    anonymous = app.test_client()
    anonymous.environ_base.update(ELSEWHERE)
    for path in ("/admin/outbox", f"/admin/outbox/{name}"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
        assert link not in response.get_data(as_text=True)
    member = app.test_client()
    member.environ_base.update(ELSEWHERE)
    login(member, make_user())
    assert member.get(f"/admin/outbox/{name}").status_code == 403
    admin = app.test_client()
    admin.environ_base.update(ELSEWHERE)
    login(admin, make_user(role="admin"))
    assert link in admin.get(f"/admin/outbox/{name}").get_data(as_text=True)


def test_in_development_a_browser_on_this_machine_signs_in_through_it(client, mail):
    name, link = mail
    for address in ("127.0.0.1", "::1"):
        client.environ_base["REMOTE_ADDR"] = address
        assert client.get("/admin/outbox").status_code == 200
        assert link in client.get(f"/admin/outbox/{name}").get_data(as_text=True)


def test_it_does_not_exist_in_production(app, mail, make_user):
    name, _link = mail
    app.config["ENV"] = "production"
    admin = app.test_client()
    login(admin, make_user(role="admin"))
    anonymous = app.test_client()
    for client in (anonymous, admin):
        assert client.get("/admin/outbox").status_code == 404
        assert client.get(f"/admin/outbox/{name}").status_code == 404
    assert "Development mailbox" not in admin.get("/admin/").get_data(as_text=True)
