"""Keyed hashes that stand for an email address or phone number once it is erased.

The suppression list and the consent ledger keep only ``address_hash(address)``: an
HMAC-SHA256 with the ``addresses`` key (``feedback.core.keys``), so a stolen copy of the
database does not reveal who complained or unsubscribed, while the same address can still
be recognised when it comes back. The database computes the same hash in queries
(``address_hash_sql``): PostgreSQL with pgcrypto's ``hmac()``, SQLite with a function
registered on each connection.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from feedback.core.keys import key_for

SQLITE_FUNCTION = "feedback_address_hmac"


def normalise_address(address: str) -> str:
    """The form addresses are stored and hashed in (email is lower case on input)."""
    return address.strip().lower()


def _hmac(key: str, value: str) -> str:
    return hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def _key() -> str:
    return key_for("addresses").hex()


def address_hash(address: str) -> str:
    """The keyed hash of one address, 64 hex characters."""
    return _hmac(_key(), normalise_address(address))


class AddressHash(FunctionElement):
    """``address_hash`` of a stored (already normalised) column, computed in SQL."""

    type = String(64)
    inherit_cache = True
    name = "address_hash"


def address_hash_sql(column: Any) -> AddressHash:
    # The key is read when the statement runs, so module-level statements can use this.
    return AddressHash(column, bindparam("address_key", callable_=_key, type_=String,
                                         unique=True))


@compiles(AddressHash)
def _sqlite(element: AddressHash, compiler, **kw) -> str:
    column, key = list(element.clauses)
    return f"{SQLITE_FUNCTION}({compiler.process(key, **kw)}, {compiler.process(column, **kw)})"


@compiles(AddressHash, "postgresql")
def _postgresql(element: AddressHash, compiler, **kw) -> str:
    column, key = list(element.clauses)
    return (f"encode(hmac(CAST({compiler.process(column, **kw)} AS TEXT), "
            f"CAST({compiler.process(key, **kw)} AS TEXT), 'sha256'), 'hex')")


def register_sqlite_function(connection) -> None:
    """Give a SQLite connection the function ``address_hash_sql`` compiles to."""
    connection.create_function(
        SQLITE_FUNCTION, 2,
        lambda key, value: None if value is None or key is None else _hmac(key, value),
        deterministic=True)
