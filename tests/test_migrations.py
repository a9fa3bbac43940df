"""The schema comes only from the migrations: they run up and down on both databases and
match the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from feedback.extensions import db
from feedback.updates.search import include_object
from tests.conftest import POSTGRES_SERVER_URL, _admin_engine, make_test_app


def _fresh_app(tmp_path, database_server):
    if database_server["kind"] == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        return make_test_app(url, tmp_path), None
    name = f"{database_server['name']}_mig"
    engine = _admin_engine(POSTGRES_SERVER_URL)
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(
        hide_password=False)
    return make_test_app(url, tmp_path), (engine, name)


def _drop(cleanup) -> None:
    if cleanup is None:
        return
    engine, name = cleanup
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_to_head_then_down_to_base_and_up_again(tmp_path, database_server):
    app, cleanup = _fresh_app(tmp_path, database_server)
    try:
        with app.app_context():
            upgrade(revision="head")
            expected = {table.name for table in db.metadata.sorted_tables}
            assert expected <= _table_names()
            downgrade(revision="base")
            db.engine.dispose()
            assert _table_names() == set()
            upgrade(revision="head")
            assert expected <= _table_names()
            db.engine.dispose()
    finally:
        _drop(cleanup)


def test_models_and_migrations_do_not_differ(tmp_path, database_server):
    app, cleanup = _fresh_app(tmp_path, database_server)
    try:
        with app.app_context():
            upgrade(revision="head")
            import feedback.models  # noqa: F401

            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "render_as_batch": True,
                                      "include_object": include_object})
                differences = compare_metadata(context, db.metadata)
            db.engine.dispose()
        assert differences == []
    finally:
        _drop(cleanup)
