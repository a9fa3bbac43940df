"""A live server on loopback and a real Chromium (Debian's, at /usr/bin/chromium)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from feedback.extensions import db
from tests.browser.axe import serve_axe
from tests.conftest import _truncate_all, database_url_for_test, make_test_app

CHROMIUM = Path("/usr/bin/chromium")
# Tests visit pages that answer 4xx on purpose (a used link, a forbidden page).
EXPECTED_HTTP_ERROR = re.compile(r"Failed to load resource: .* status of 4\d\d")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    if os.environ.get("FEEDBACK_REQUIRE_BROWSER"):
        raise pytest.UsageError(f"{CHROMIUM} is missing but FEEDBACK_REQUIRE_BROWSER is set "
                                "(install Debian's chromium package)")
    skip = pytest.mark.skip(reason=f"browser tests need Debian's chromium at {CHROMIUM} "
                                   "(apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def live_app_config() -> dict:
    return {}


@pytest.fixture
def live_server(migrated_database, tmp_path, live_app_config) -> Iterator[LiveServer]:
    app = make_test_app(database_url_for_test(migrated_database, tmp_path), tmp_path,
                        WTF_CSRF_ENABLED=True, **live_app_config)
    serve_axe(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()
        if migrated_database["kind"] == "postgresql":
            _truncate_all(app)


@pytest.fixture
def demo(live_server) -> LiveServer:
    """The live server with the demo organisations, people and content."""
    from feedback.demo import seed

    with live_server.app.app_context():
        seed()
        db.session.commit()
    return live_server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not EXPECTED_HTTP_ERROR.match(message.text)
            else None)
    yield page
    context.close()
    # A CSP violation or a script error shows up here.
    assert errors == [], f"browser errors: {errors}"


def sign_in(page, live_server: LiveServer, email: str) -> None:
    """Sign in through the real flow: ask for a link, take it from the outbox, press the
    button."""
    from tests.conftest import Outbox

    page.goto(live_server("/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.wait_for_url("**/check-your-email")
    link = Outbox(Path(live_server.app.config["OUTBOX_DIR"])).links()[-1]
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/account")


_SESSION_STARTED = [0.0]


def pytest_sessionstart(session):
    import time

    _SESSION_STARTED[0] = time.time()


def pytest_terminal_summary(terminalreporter):
    """Say where the phone-first screenshots and crawl report are (tests/browser/test_reflow.py)."""
    from tests.browser.test_reflow import ARTIFACTS

    report = ARTIFACTS / "crawl.txt"
    if report.exists() and report.stat().st_mtime >= _SESSION_STARTED[0]:
        terminalreporter.write_line(report.read_text(encoding="utf-8").splitlines()[0])
        terminalreporter.write_line(f"phone-first screenshots and crawl report: {ARTIFACTS}")
