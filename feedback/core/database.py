"""Round trips to the database that a busy request need not make.

On PostgreSQL each statement is a round trip, and so are the transaction's BEGIN and its
ROLLBACK or COMMIT, and a pool "pre-ping" on every checkout: a page of two queries made
five, and in a national round each one costs the web worker and the database server CPU.
"""

from __future__ import annotations

import time

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from feedback.extensions import db


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Before a pooled connection is handed out, check it still works if it has been idle
    for ``idle_seconds`` or more (a database restart or a firewall may have dropped it);
    a dead one is replaced, and the request never sees it. SQLAlchemy's own
    ``pool_pre_ping`` does this on every checkout: a round trip per request even when the
    connection was used a millisecond ago."""

    @event.listens_for(engine, "checkin")
    def note_idle(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # just opened, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and hands out a new one.
            raise DisconnectionError("the pooled connection no longer works") from error


def without_transaction() -> None:
    """Let this request's statements each stand alone (PostgreSQL autocommit: no BEGIN and
    no ROLLBACK, two round trips fewer). Only for a request that reads, or whose one write
    is a single statement: PostgreSQL gives each statement its own snapshot in a
    transaction too (READ COMMITTED), so reads see what they would have seen. Call it
    before the request's first query; once a transaction has begun it does nothing.
    SQLite's driver begins transactions without a round trip, so there it does nothing."""
    if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        g.without_transaction = True


def init_app(app: Flask) -> None:
    """Ping idle pooled connections, and hand back a connection lent without a
    transaction when its request ends."""
    with app.app_context():
        for engine in db.engines.values():
            ping_idle_connections(engine, app.config["DATABASE_PING_IDLE_SECONDS"])
    app.teardown_request(_end_without_transaction)


def _end_without_transaction(_error: BaseException | None = None) -> None:
    # The session may outlive the request (an app context held open around several, as
    # in tests): the connection goes back to the pool, and with it the autocommit, so the
    # next request begins a transaction again. Its statements committed themselves.
    if g.pop("without_transaction", False):
        db.session.rollback()
