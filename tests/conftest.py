"""Shared fixtures: an isolated, migrated database per test (SQLite, or PostgreSQL when
FEEDBACK_TEST_DATABASE_URL is set), the app and client, and factories."""

from __future__ import annotations

import email
import email.policy
import gc
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from feedback import create_app
from feedback.extensions import db

POSTGRES_SERVER_URL = os.environ.get("FEEDBACK_TEST_DATABASE_URL", "").strip()


def _compile_each_url_builder_once() -> None:
    """Each test builds its own app, and Werkzeug compiles two small Python functions per
    URL rule for every app: about 95 of the 100 ms an app takes to build, which is minutes
    of a CI run. The functions depend only on the rule's text, its parts and its defaults,
    never on the app (converters are looked up on the rule when a URL is built), so the run
    compiles each once and every app's rules share them."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def shared_builder(self, append_unknown: bool = True):
        defaults = self.defaults or {}
        if any(name in self._converters for name in defaults):
            # A default for a part of the rule is converted when compiling: not shared.
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), tuple(sorted(defaults)), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared_builder


_compile_each_url_builder_once()


def pytest_report_header(config) -> str:
    return f"database: {'postgresql' if POSTGRES_SERVER_URL else 'sqlite'}"


def pytest_sessionstart(session) -> None:
    """Collect garbage less often. Each test builds an app, whose many small objects make
    Python's cyclic collector run again and again over everything alive: about a sixth
    of the suite's time. Objects made while importing are frozen out of its reach."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def pytest_collection_modifyitems(config, items) -> None:
    """Tests CI runs in one of its two passes only, and the long ones first.

    ``once`` tests (what the database cannot change: packaging, layout, translations,
    redirects) run in the SQLite pass only. The other browser tests run in one pass too:
    the PostgreSQL pass when ``make test`` says one follows
    (``FEEDBACK_BROWSER_PASS=postgresql``), so the journeys meet the production database;
    otherwise wherever the suite runs.

    Browser and ``long`` tests start first, so that xdist's workers do not wait at the
    end for one of them while the other worker is idle."""
    leave_out = []
    if POSTGRES_SERVER_URL:
        leave_out = [item for item in items if item.get_closest_marker("once")]
    elif os.environ.get("FEEDBACK_BROWSER_PASS") == "postgresql":
        leave_out = [item for item in items if item.get_closest_marker("browser")
                     and not item.get_closest_marker("once")]
    if leave_out:
        config.hook.pytest_deselected(items=leave_out)
        left_out = set(map(id, leave_out))
        items[:] = [item for item in items if id(item) not in left_out]
    items.sort(key=lambda item: not (item.get_closest_marker("browser")
                                     or item.get_closest_marker("long")))


def pytest_runtest_setup(item) -> None:
    """``postgres_only`` tests (row locks, real second processes) skip on SQLite."""
    if item.get_closest_marker("postgres_only") and not POSTGRES_SERVER_URL:
        pytest.skip("needs PostgreSQL (row locks and a real second process): set "
                    "FEEDBACK_TEST_DATABASE_URL")


def _admin_engine(server_url: str) -> sa.Engine:
    return sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


@pytest.fixture(scope="session")
def database_server() -> Iterator[dict]:
    """Where this run's databases live. PostgreSQL must be reachable when it is asked for:
    the run fails loudly rather than skipping."""
    if not POSTGRES_SERVER_URL:
        yield {"kind": "sqlite"}
        return
    name = f"feedback_test_{uuid.uuid4().hex[:10]}"
    engine = _admin_engine(POSTGRES_SERVER_URL)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            # A test database need not survive a crash: commits need not wait for the disk.
            # JIT compiling pays off only for long analytic queries, never for a test's.
            connection.execute(sa.text(
                f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
            connection.execute(sa.text(f'ALTER DATABASE "{name}" SET jit = off'))
    except sa.exc.OperationalError as error:
        pytest.exit(f"PostgreSQL at {POSTGRES_SERVER_URL} is unreachable: {error}", returncode=3)
    url = sa.make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(
        hide_password=False)
    yield {"kind": "postgresql", "url": url, "name": name}
    with engine.connect() as connection:
        connection.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


def _migrate(url: str, instance: Path) -> None:
    app = create_app({"DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "SECRET_KEY": "test", "OUTBOX_DIR": str(instance / "outbox")})
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_server, tmp_path_factory) -> dict:
    """The schema made by the Alembic migrations, once per run."""
    instance = tmp_path_factory.mktemp("template")
    if database_server["kind"] == "sqlite":
        path = instance / "template.db"
        _migrate(f"sqlite:///{path}", instance)
        return {"kind": "sqlite", "template": path}
    _migrate(database_server["url"], instance)
    return database_server


def _truncate_all(app: Flask) -> None:
    """Empty every table and restart every sequence, ready for the next test.

    DELETE, children first, rather than TRUNCATE: the tables hold a handful of rows, and
    TRUNCATE of some fifty tables makes new files for each (about 25 times slower here)."""
    with app.app_context():
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
            connection.execute(sa.text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))
        db.engine.dispose()


def database_url_for_test(migrated_database: dict, tmp_path: Path) -> str:
    """A database of the test's own: a copy of the migrated SQLite file, or the run's
    PostgreSQL database (emptied after each test)."""
    if migrated_database["kind"] == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(migrated_database["template"], path)
        return f"sqlite:///{path}"
    return migrated_database["url"]


def make_test_app(url: str, tmp_path: Path, **overrides) -> Flask:
    """An app for tests on the database at ``url``."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": url,
        "SQLALCHEMY_DATABASE_URI": url,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "SHARE_CARD_DIR": str(tmp_path / "share-cards"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://localhost",
        # Tests change data behind the services' backs; the caches have their own tests.
        "PAGE_CACHE_SECONDS": 0,
        "RESULTS_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    app = create_app(config)
    # Tests hold an app context, which Flask reuses for test-client requests; give each
    # request a fresh ``g`` as production does (Flask-Login and CSRF cache things there).
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_globals)
    return app


def _fresh_request_globals() -> None:
    from flask import g

    g.__dict__.clear()


@pytest.fixture
def app_config() -> dict:
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
def app(migrated_database, tmp_path, app_config) -> Iterator[Flask]:
    application = make_test_app(database_url_for_test(migrated_database, tmp_path), tmp_path,
                                **app_config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    if migrated_database["kind"] == "postgresql":
        _truncate_all(application)


@pytest.fixture
def make_app(migrated_database, tmp_path) -> Iterator:
    """Build extra apps with other settings on this test's database, cleaned up after."""
    made: list[Flask] = []

    def build(**overrides) -> Flask:
        url = database_url_for_test(migrated_database, tmp_path) if not made else \
            made[0].config["SQLALCHEMY_DATABASE_URI"]
        application = make_test_app(url, tmp_path, **overrides)
        made.append(application)
        return application

    yield build
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
    if made and migrated_database["kind"] == "postgresql":
        _truncate_all(made[0])


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Factories -------------------------------------------------------------------------

@pytest.fixture
def make_user(app):
    from feedback.accounts import services
    from feedback.accounts.models import PlatformRole

    counter = iter(range(1, 10_000))

    def make(role: str = "member", email: str | None = None, name: str | None = None,
             org=None, org_role: str = "editor"):
        number = next(counter)
        user = services.create_user(email or f"person{number}@example.org",
                                    PlatformRole(role), name or f"Person {number}")
        if org is not None:
            services.add_member(None, org, user, org_role)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_org(app):
    from feedback.organisations import services

    counter = iter(range(1, 10_000))

    def make(kind: str = "nhs", name: str | None = None, **data):
        number = next(counter)
        org = services.create_organisation(None, {"kind": kind,
                                                  "name": name or f"Organisation {number}",
                                                  **data})
        db.session.commit()
        return org

    return make


@pytest.fixture
def make_dataset(app):
    from feedback.organisations import services

    def make(org, name: str = "Hospital Episode Statistics", **data):
        dataset = services.create_dataset(None, org, {"name": name, **data})
        db.session.commit()
        return dataset

    return make


@pytest.fixture
def make_service(app):
    from feedback.organisations import services

    def make(org, name: str = "Emergency department", **data):
        service = services.create_service(None, org, {"name": name, **data})
        db.session.commit()
        return service

    return make


def login(client: FlaskClient, user) -> None:
    """Sign ``user`` in on ``client`` the way Flask-Login stores it in the session."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture
def login_as(client):
    def sign_in(user):
        login(client, user)
        return client

    return sign_in


class Outbox:
    """The development mail folder, read as parsed messages."""

    def __init__(self, folder: Path):
        self.folder = folder

    def messages(self) -> list[EmailMessage]:
        if not self.folder.exists():
            return []
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(self.folder.glob("*.eml"))]

    def last(self) -> EmailMessage:
        messages = self.messages()
        assert messages, "no mail was written to the outbox"
        return messages[-1]

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def links(self, message: EmailMessage | None = None) -> list[str]:
        return re.findall(r"https?://\S+", self.text(message or self.last()))


@pytest.fixture
def outbox(app) -> Outbox:
    return Outbox(Path(app.config["OUTBOX_DIR"]))
