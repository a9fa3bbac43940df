"""One key per purpose from SECRET_KEY (HKDF), each rotatable alone (issue 13, item 16)."""

from __future__ import annotations

import pytest
from itsdangerous import BadSignature, URLSafeSerializer

from feedback.core.keys import PURPOSES, derive_keys, hkdf_sha256


def test_hkdf_matches_rfc_5869_test_case_1():
    okm = hkdf_sha256(bytes([0x0B] * 22), bytes(range(0xF0, 0xFA)), bytes(range(0x0D)), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


def test_every_purpose_has_its_own_key_and_none_is_the_master():
    keys = derive_keys({"SECRET_KEY": "master"})
    assert set(keys) == set(PURPOSES)
    assert len(set(keys.values())) == len(PURPOSES)
    assert all(key != b"master" and len(key) == 32 for key in keys.values())


def test_an_override_changes_only_its_own_purpose():
    before = derive_keys({"SECRET_KEY": "master"})
    after = derive_keys({"SECRET_KEY": "master", "SESSION_SECRET_KEY": "rotated"})
    assert after["session"] != before["session"]
    assert {p: after[p] for p in PURPOSES if p != "session"} == \
        {p: before[p] for p in PURPOSES if p != "session"}


def test_pinning_the_old_master_keeps_ballots_when_the_master_rotates():
    before = derive_keys({"SECRET_KEY": "old"})
    after = derive_keys({"SECRET_KEY": "new", "BALLOT_SECRET_KEY": "old",
                         "ADDRESS_SECRET_KEY": "old"})
    assert after["ballots"] == before["ballots"]
    assert after["addresses"] == before["addresses"]
    assert after["session"] != before["session"] and after["links"] != before["links"]


def _as_in_production(app):
    """Tests pass SECRET_KEY as an override, which Flask then uses as is; production uses
    the derived session key."""
    app.config["SECRET_KEY"] = app.config["KEYS"]["session"].hex()
    return app


def test_rotating_the_session_key_signs_people_out_but_keeps_ballot_codes_and_links(
        make_app):
    from feedback.accounts.services import create_user
    from feedback.extensions import db
    from feedback.priorities import services as priorities
    from feedback.subscriptions import services as subscriptions
    from tests.conftest import login

    first = _as_in_production(make_app(SECRET_KEY="master"))
    with first.app_context():
        user = create_user("rotation@example.org")
        db.session.commit()
        code_hash = priorities.hash_code("ABCD-EFGH")
        voter = priorities.voter_key(1, "user:1")
        link = subscriptions.signed_token(7)
        client = first.test_client()
        login(client, user)
        assert client.get("/account").status_code == 200
        cookie = client.get_cookie("session").value

    rotated = _as_in_production(make_app(SECRET_KEY="master", SESSION_SECRET_KEY="rotated"))
    with rotated.app_context():
        assert priorities.hash_code("ABCD-EFGH") == code_hash
        assert priorities.voter_key(1, "user:1") == voter
        assert subscriptions.signed_token(7) == link
        stale = rotated.test_client()
        stale.set_cookie("session", cookie)
        assert stale.get("/account").status_code == 302  # signed out


def test_links_signed_before_keys_were_derived_still_work_until_the_link_key_is_set(make_app):
    from feedback.subscriptions import services as subscriptions

    old_link = URLSafeSerializer("master", salt="subscriber-link").dumps(7)
    app = make_app(SECRET_KEY="master")
    with app.app_context():
        assert subscriptions._serializer().loads(old_link) == 7
    app = make_app(SECRET_KEY="master", LINK_SECRET_KEY="new-link-key")
    with app.app_context(), pytest.raises(BadSignature):
        subscriptions._serializer().loads(old_link)


def test_production_sessions_use_the_derived_key_not_the_master(monkeypatch, tmp_path):
    from feedback.config import load_settings

    monkeypatch.setenv("FEEDBACK_SECRET_KEY", "m" * 40)
    settings = load_settings(tmp_path, None)
    assert settings["SECRET_KEY"] == settings["KEYS"]["session"].hex() != "m" * 40
