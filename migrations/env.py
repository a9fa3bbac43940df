"""Alembic environment, run through Flask-Migrate (``feedback db upgrade``)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_metadata():
    import feedback.models  # noqa: F401 - every model registers with the metadata

    return current_app.extensions["migrate"].db.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=get_engine().url.render_as_string(hide_password=False),
        target_metadata=get_metadata(),
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    conf_args = dict(current_app.extensions["migrate"].configure_args)

    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []

    conf_args.setdefault("process_revision_directives", process_revision_directives)
    from feedback.updates.search import include_object

    conf_args.setdefault("include_object", include_object)
    with get_engine().connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode copies and drops tables; with foreign keys on, a drop would
            # cascade into the rows that refer to them. Alembic's advice: off while migrating.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the implicit transaction; migrations open their own
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
