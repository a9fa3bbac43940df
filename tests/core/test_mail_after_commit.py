"""Mail a service sends goes out only when the request's transaction commits: a failure
after the send point rolls back the rows and emails nobody a link to nothing."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from feedback.accounts import services as accounts
from feedback.accounts.models import SignInToken
from feedback.extensions import db
from feedback.subscriptions import services as subscriptions
from feedback.subscriptions.models import Subscriber
from tests.digest_support import free_port, smtp_sink  # noqa: F401


@pytest.fixture
def app_config(smtp_sink):  # noqa: F811
    return smtp_sink.config()


def _fails_after(send) -> None:
    """What a request does when a step after the send raises: the handler rolls back."""
    try:
        send()
        raise RuntimeError("a later step failed")
    except RuntimeError:
        db.session.rollback()


def test_a_sign_in_link_is_sent_on_commit_and_not_on_rollback(app, smtp_sink):  # noqa: F811
    _fails_after(lambda: accounts.request_sign_in("amina@example.org"))
    assert smtp_sink.messages == []
    assert db.session.scalar(select(func.count()).select_from(SignInToken)) == 0

    accounts.request_sign_in("amina@example.org")
    assert smtp_sink.messages == []  # not before the commit
    db.session.commit()
    assert smtp_sink.recipients() == {"amina@example.org": 1}


def test_a_subscription_confirmation_is_sent_on_commit_and_not_on_rollback(
        app, smtp_sink):  # noqa: F811
    data = {"email": "bilal@example.org", "language": "en", "cadence": "weekly"}
    _fails_after(lambda: subscriptions.subscribe(data, "/subscribe"))
    assert smtp_sink.messages == []
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0

    subscriptions.subscribe(data, "/subscribe")
    db.session.commit()
    assert smtp_sink.recipients() == {"bilal@example.org": 1}


def test_mail_queued_in_a_savepoint_that_rolls_back_is_not_sent(app, smtp_sink):  # noqa: F811
    accounts.request_sign_in("esi@example.org")
    try:
        with db.session.begin_nested():
            accounts.request_sign_in("femi@example.org")
            with db.session.begin_nested():  # released into the savepoint that rolls back
                accounts.request_sign_in("gita@example.org")
            raise RuntimeError("this step failed")
    except RuntimeError:
        pass
    with db.session.begin_nested():  # released: its mail goes with the commit
        accounts.request_sign_in("hana@example.org")
    assert smtp_sink.messages == []  # releasing a savepoint is not a commit
    db.session.commit()
    assert smtp_sink.recipients() == {"esi@example.org": 1, "hana@example.org": 1}
    assert db.session.scalar(select(func.count()).select_from(SignInToken)) == 2


def test_the_sign_in_page_sends_its_link(client, smtp_sink):  # noqa: F811
    response = client.post("/sign-in", data={"email": "chen@example.org"})
    assert response.status_code in (200, 302)
    assert smtp_sink.recipients() == {"chen@example.org": 1}


def test_a_mail_server_that_is_down_after_commit_is_logged_without_the_address(
        make_app, caplog):
    down = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")
    with down.app_context(), caplog.at_level(logging.ERROR, logger="feedback.core.mail"):
        accounts.request_sign_in("dara@example.org")
        db.session.commit()  # the data stays committed; the person can ask again
        assert db.session.scalar(select(func.count()).select_from(SignInToken)) == 1
    assert "could not be sent after commit" in caplog.text
    assert "dara@example.org" not in caplog.text
