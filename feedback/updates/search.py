"""Full-text search over updates: SQLite FTS5 or a PostgreSQL ``tsvector`` with a GIN
index, behind one function, :func:`search_condition`.

The index objects are made by the migration (they are not models): an FTS5 table kept in
step by triggers on SQLite, and a generated ``search_vector`` column on PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, bindparam, literal_column, select, table, text

from feedback.extensions import db

FTS_TABLE = "updates_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_updates_search_vector"
MAX_QUERY_LENGTH = 200
_WORD = re.compile(r"\w+", re.UNICODE)

_COLUMNS = "title, summary, body, what_changed, who_benefits"
_NEW = "new.id, new.title, new.summary, new.body, new.what_changed, new.who_benefits"
_OLD = "old.id, old.title, old.summary, old.body, old.what_changed, old.who_benefits"
# Built from the constants above only, never from input.
_INSERT_NEW = f"INSERT INTO updates_fts(rowid, {_COLUMNS}) VALUES ({_NEW});"  # noqa: S608
_DELETE_OLD = f"INSERT INTO updates_fts(updates_fts, rowid, {_COLUMNS}) VALUES ('delete', {_OLD});"  # noqa: S608

SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE updates_fts USING fts5(" + _COLUMNS + ", content='updates', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER updates_fts_insert AFTER INSERT ON updates BEGIN " + _INSERT_NEW + " END",
    "CREATE TRIGGER updates_fts_delete AFTER DELETE ON updates BEGIN " + _DELETE_OLD + " END",
    "CREATE TRIGGER updates_fts_update AFTER UPDATE OF " + _COLUMNS + " ON updates BEGIN "
    + _DELETE_OLD + " " + _INSERT_NEW + " END",
    # Index anything already there.
    "INSERT INTO updates_fts(updates_fts) VALUES ('rebuild')",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS updates_fts_insert",
    "DROP TRIGGER IF EXISTS updates_fts_delete",
    "DROP TRIGGER IF EXISTS updates_fts_update",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]

POSTGRESQL_UPGRADE = [
    f"ALTER TABLE updates ADD COLUMN {SEARCH_COLUMN} tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(what_changed, '') || ' ' || "
    "coalesce(who_benefits, '') || ' ' || coalesce(body, '')), 'C')) STORED",
    f"CREATE INDEX {SEARCH_INDEX} ON updates USING gin ({SEARCH_COLUMN})",
]
POSTGRESQL_DOWNGRADE = [
    f"DROP INDEX IF EXISTS {SEARCH_INDEX}",
    f"ALTER TABLE updates DROP COLUMN IF EXISTS {SEARCH_COLUMN}",
]


def include_object(object, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: leave the search index objects (made by hand in the migration) out
    of autogenerate's comparison."""
    if type_ == "table" and name and name.startswith(FTS_TABLE):
        return False
    if type_ == "column" and name == SEARCH_COLUMN:
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)


def search_words(query: str) -> list[str]:
    """The words of a search, without any query syntax (quotes, operators)."""
    return _WORD.findall(query[:MAX_QUERY_LENGTH].lower())[:20]


def search_gathers_every_match() -> bool:
    """Whether ``search_condition`` gathers every matching update before a list is put in
    order: SQLite's FTS5 does (an ``IN`` list, 5 to 8 ms for a common word at 100,000
    updates), so a list looks among the newest updates first. PostgreSQL reads the
    newest updates in order and checks each one's ``tsvector``, stopping at a page."""
    return db.engine.dialect.name != "postgresql"


def search_condition(query: str, id_column, ids: tuple[Any, Any] | None = None
                     ) -> ColumnElement[bool] | None:
    """A WHERE condition matching updates whose text has every word of ``query``, or None
    when the query has no words. ``id_column`` is ``Update.id``; ``ids``, the lowest and
    highest id the updates can have (SQL expressions), if known: SQLite's full-text index
    then reads only that range of each word's list of updates."""
    words = search_words(query)
    if not words:
        return None
    if db.engine.dialect.name == "postgresql":
        return text(f"updates.{SEARCH_COLUMN} @@ plainto_tsquery('english', :search_q)"
                    ).bindparams(bindparam("search_q", " ".join(words)))
    # Each word quoted, so FTS5 reads them as plain terms (AND), never as syntax.
    match = " ".join(f'"{word}"' for word in words)
    rowid = literal_column("rowid")
    matches = (select(rowid).select_from(table(FTS_TABLE))
               .where(text(f"{FTS_TABLE} MATCH :search_q")
                      .bindparams(bindparam("search_q", match))))
    if ids is not None:
        matches = matches.where(rowid >= ids[0], rowid <= ids[1])
    return id_column.in_(matches)
