"""Passwordless sign-in: single-use, expiring, hashed links that never reveal who has an
account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback.accounts.models import SignInToken, User
from feedback.core.models import utcnow
from feedback.core.tokens import hash_token
from feedback.extensions import db


def _request_link(client, email: str) -> None:
    response = client.post("/sign-in", data={"email": email})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in/check-your-email")


def _token_from(outbox) -> str:
    link = next(link for link in outbox.links() if "/sign-in/" in link)
    return link.rsplit("/", 1)[-1]


def test_a_new_person_signs_in_and_gets_a_pseudonymous_account(client, outbox):
    _request_link(client, "Amina@Example.org")
    message = outbox.last()
    assert message["To"] == "amina@example.org"
    assert "create your account" in outbox.text(message)
    token = _token_from(outbox)

    # Following the link only shows a button; scanners that open links do not use it up.
    assert client.get(f"/sign-in/{token}").status_code == 200
    response = client.post(f"/sign-in/{token}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")

    user = db.session.scalar(select(User).where(User.email == "amina@example.org"))
    assert user.email_confirmed_at is not None
    assert user.display_name and "amina" not in user.display_name.lower()
    page = client.get("/account").get_data(as_text=True)
    assert user.display_name in page


def test_only_the_hash_of_the_token_is_stored(client, outbox):
    _request_link(client, "kofi@example.org")
    token = _token_from(outbox)
    stored = db.session.scalars(select(SignInToken.token_hash)).all()
    assert stored == [hash_token(token)]
    assert token not in stored


def test_a_link_works_once_and_then_says_it_has_been_used(client, outbox):
    _request_link(client, "kofi@example.org")
    token = _token_from(outbox)
    assert client.post(f"/sign-in/{token}").status_code == 302
    client.post("/sign-out")
    again = client.post(f"/sign-in/{token}")
    assert again.status_code == 410
    assert "This link has been used" in again.get_data(as_text=True)
    assert client.get(f"/sign-in/{token}").status_code == 410


def test_a_link_expires_after_fifteen_minutes(client, outbox):
    _request_link(client, "kofi@example.org")
    token = _token_from(outbox)
    row = db.session.scalar(select(SignInToken))
    assert timedelta(minutes=14) < row.expires_at - utcnow() <= timedelta(minutes=15)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.post(f"/sign-in/{token}")
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_a_made_up_link_is_not_found(client):
    response = client.get("/sign-in/not-a-real-token")
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)


def test_the_reply_is_the_same_whether_or_not_the_address_has_an_account(client, make_user):
    make_user(email="known@example.org")
    known = client.post("/sign-in", data={"email": "known@example.org"})
    unknown = client.post("/sign-in", data={"email": "unknown@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]


@pytest.mark.parametrize(
    ("email", "message"),
    [("", "Enter your email address"),
     ("not-an-email", "Enter an email address in the correct format"),
     ("a" * 250 + "@example.org", "254 characters or fewer")],
)
def test_bad_addresses_get_a_clear_message(client, outbox, email, message):
    response = client.post("/sign-in", data={"email": email})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "There is a problem" in response.get_data(as_text=True)
    assert outbox.messages() == []
    assert db.session.scalars(select(SignInToken)).all() == []


def test_only_local_pages_are_followed_after_sign_in(client, outbox):
    client.post("/sign-in", data={"email": "kofi@example.org", "next": "https://evil.example"})
    token = _token_from(outbox)
    assert client.post(f"/sign-in/{token}").headers["Location"].endswith("/account")
    client.post("/sign-out")
    client.post("/sign-in", data={"email": "kofi@example.org", "next": "/organisations"})
    token = _token_from(outbox)
    assert client.post(f"/sign-in/{token}").headers["Location"].endswith("/organisations")


def test_the_sign_in_email_contains_no_other_personal_data(client, outbox, make_user):
    make_user(email="known@example.org", name="Secret Name")
    client.post("/sign-in", data={"email": "known@example.org"})
    text = outbox.text(outbox.last())
    assert "Secret Name" not in text
    assert re.search(r"/sign-in/[A-Za-z0-9_-]{40,}", text)


def test_a_session_cookie_copied_before_sign_out_no_longer_works(app, client, outbox):
    """Issue 13, item 9: signing out ends the session on the server, not just in the
    browser that asked, so a copied cookie cannot load the account page afterwards."""
    _request_link(client, "copied@example.org")
    assert client.post(f"/sign-in/{_token_from(outbox)}").status_code == 302
    assert client.get("/account").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/account").status_code == 200  # the copy works while signed in

    assert client.post("/sign-out").status_code == 302
    assert client.get("/account").status_code == 302
    response = thief.get("/account")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_deleting_an_account_ends_a_copied_session_too(app, client, outbox):
    _request_link(client, "leaving@example.org")
    client.post(f"/sign-in/{_token_from(outbox)}")
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert client.post("/account/delete", data={"confirm": "y"}).status_code in (302, 200)
    assert thief.get("/account").status_code == 302
