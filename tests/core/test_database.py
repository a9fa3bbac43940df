"""Round trips a request need not make: pinging only idle pooled connections, and reads
without a transaction around them (feedback/core/database.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from feedback.core.database import without_transaction
from feedback.extensions import db


def _backend_pid() -> int:
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.remove()  # back to the pool, idle from now
    return pid


def _own_transaction() -> str:
    """A view: "True" when its statements each commit on their own (now() is when the
    transaction began: with none around them, the statement itself)."""
    db.session.execute(text("SELECT 1"))
    return str(db.session.scalar(text("SELECT now() = statement_timestamp()")))


def _other_connection(application) -> sa.Engine:
    return sa.create_engine(application.config["SQLALCHEMY_DATABASE_URI"],
                            isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


@pytest.mark.postgres_only
@pytest.mark.parametrize(("idle_seconds", "pinged"), [(0, True), (3600, False)])
def test_a_pooled_connection_is_pinged_only_once_it_has_been_idle(make_app, idle_seconds,
                                                                  pinged):
    application = make_app(DATABASE_PING_IDLE_SECONDS=idle_seconds)
    other = _other_connection(application)
    with application.app_context():
        pid = _backend_pid()
        db.session.connection()  # the same pooled connection, handed out again
        with other.connect() as connection:
            last = connection.scalar(text("SELECT query FROM pg_stat_activity WHERE pid = :pid"),
                                     {"pid": pid})
        assert _backend_pid() == pid
    other.dispose()
    # Its last statement was the pool's ROLLBACK on the way back, unless it was pinged.
    assert (last.strip() != "ROLLBACK") is pinged, last


@pytest.mark.postgres_only
def test_an_idle_connection_the_server_dropped_is_replaced_before_the_request_sees_it(
        make_app):
    application = make_app(DATABASE_PING_IDLE_SECONDS=0)
    other = _other_connection(application)
    with application.app_context():
        dropped = _backend_pid()
        with other.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"),
                                     {"pid": dropped})
        assert db.session.scalar(text("SELECT 1")) == 1  # no error: a new connection
        assert _backend_pid() != dropped
    other.dispose()


@pytest.mark.postgres_only
def test_without_a_transaction_each_statement_is_its_own(app):
    without_transaction()
    db.session.execute(text("SELECT 1"))
    # now() is when the transaction began: here, this statement.
    assert db.session.scalar(text("SELECT now() = statement_timestamp()"))
    db.session.remove()

    db.session.execute(text("SELECT 1"))
    without_transaction()  # too late: the transaction has begun, and it stays
    assert not db.session.scalar(text("SELECT now() = statement_timestamp()"))
    db.session.remove()


@pytest.mark.postgres_only
@pytest.mark.parametrize(("writes", "own_transactions"), [(False, True), (True, False)])
def test_a_shared_page_reads_without_a_transaction_unless_it_writes(app, writes,
                                                                    own_transactions):
    from feedback.core.caching import cached_page

    app.add_url_rule("/probe", "probe", cached_page(writes=writes)(_own_transaction))
    assert app.test_client().get("/probe").text == str(own_transactions)


@pytest.mark.postgres_only
def test_the_next_request_in_the_same_app_context_has_its_transaction_again(app):
    """Tests hold one app context around several requests, so one session serves them
    all: a shared page must not leave it without transactions for the next, which may
    need one (the results page's SAVEPOINT)."""
    from feedback.core.caching import cached_page

    app.add_url_rule("/shared", "shared", cached_page()(_own_transaction))
    app.add_url_rule("/writes", "writes", cached_page(writes=True)(_own_transaction))
    client = app.test_client()
    assert client.get("/shared").text == "True"
    assert client.get("/writes").text == "False"
