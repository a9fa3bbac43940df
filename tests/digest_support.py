"""Real parts for the subscription, digest and delivery tests: an aiosmtpd server on
loopback that can refuse, drop or defer, a local GOV.UK Notify API, and data helpers.
Import the fixtures into a conftest with ``from tests.digest_support import *``."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import event

from feedback.extensions import db

NOTIFY_SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
NOTIFY_API_KEY = f"feedback_test-{NOTIFY_SERVICE_ID}-{NOTIFY_SECRET}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """Stores what it accepts. ``plan`` is a list of actions used one per DATA command
    before normal service: "drop" (close the connection), "defer" (451), "reject" (550).
    ``on_message`` is called (in the server thread) after each accepted message."""

    def __init__(self, username: str | None = None, password: str | None = None,
                 delay: float = 0.0, tls: str | None = None, tls_context=None):
        self.tls, self.tls_context = tls, tls_context  # "starttls" or "ssl"
        self.encrypted_messages = 0
        # Connections that carried a message (kept, so that their ids stay unique).
        self.sessions: dict[int, object] = {}
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs) accepted
        self.plan: list[str] = []
        self.on_message = None
        self.delay = delay
        self.username, self.password = username, password
        self.port = free_port()
        self.controller: Controller | None = None
        self.lock = threading.Lock()

    # aiosmtpd handler hooks
    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            action = self.plan.pop(0) if self.plan else "accept"
        if action == "drop":
            server.transport.close()
            return "421 closing"
        if action == "defer":
            return "451 try again later"
        if action == "reject":
            return "550 no such mailbox"
        if self.delay:
            time.sleep(self.delay)
        if server.transport.get_extra_info("ssl_object") is not None:
            self.encrypted_messages += 1
        self.sessions[id(session)] = session
        message = email.message_from_bytes(envelope.original_content,
                                           policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if self.on_message is not None:
            self.on_message(message)
        return "250 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode() == self.username and
              auth_data.password.decode() == self.password)
        return AuthResult(success=ok)

    def start(self) -> SmtpSink:
        options: dict = {}
        if self.username:
            # aiosmtpd only counts STARTTLS as TLS for AUTH; implicit TLS is encrypted too.
            options = {"authenticator": self._authenticate,
                       "auth_require_tls": self.tls == "starttls"}
        if self.tls == "starttls":
            options.update(tls_context=self.tls_context, require_starttls=True)
        elif self.tls == "ssl":
            options.update(ssl_context=self.tls_context)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def recipients(self) -> Counter:
        with self.lock:
            return Counter(message["To"] for message in self.messages)

    def config(self) -> dict:
        settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port,
                    "SMTP_SECURITY": self.tls or "none",
                    "DELIVERY_CHANNEL": "smtp"}
        if self.username:
            settings.update(SMTP_USERNAME=self.username, SMTP_PASSWORD=self.password)
        return settings


class NotifyApi:
    """GOV.UK Notify's documented endpoints: POST /v2/notifications/email and /sms.
    Checks the JWT (HS256, iss = service id, iat recent). ``plan`` holds status codes to
    answer before normal service (for example [429, 500]; "daily-limit" is the 429 for
    the daily cap)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.plan: list[int | str] = []
        self.rejected_tokens = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                auth = self.headers.get("Authorization", "")
                try:
                    claims = jwt.decode(auth.removeprefix("Bearer "), NOTIFY_SECRET,
                                        algorithms=["HS256"], options={"require": ["iss",
                                                                                   "iat"]})
                    if claims["iss"] != NOTIFY_SERVICE_ID or abs(
                            time.time() - claims["iat"]) > 30:
                        raise jwt.InvalidTokenError("bad iss or iat")
                except jwt.InvalidTokenError:
                    api.rejected_tokens += 1
                    return self._answer(403, {"errors": [{"error": "AuthError",
                                                          "message": "Invalid token"}],
                                              "status_code": 403})
                if self.path not in ("/v2/notifications/email", "/v2/notifications/sms"):
                    return self._answer(404, {"errors": [{"error": "NotFound"}]})
                status = api.plan.pop(0) if api.plan else 201
                if status == "daily-limit":
                    return self._answer(429, {"errors": [{
                        "error": "TooManyRequestsError",
                        "message": "Exceeded send limits (250000) for today"}],
                        "status_code": 429})
                if status == 429:
                    return self._answer(429, {"errors": [{"error": "RateLimitError",
                                                          "message": "Exceeded rate limit"}],
                                              "status_code": 429})
                if status >= 500:
                    return self._answer(status, {"errors": [{"error": "Exception",
                                                             "message": "Internal error"}]})
                if "phone_number" in body and not re.fullmatch(
                        r"\+?[0-9 ]{7,20}", body["phone_number"]):
                    return self._answer(400, {"errors": [{
                        "error": "ValidationError",
                        "message": "phone_number Not a UK mobile number"}]})
                if "email_address" in body and "@" not in body["email_address"]:
                    return self._answer(400, {"errors": [{
                        "error": "ValidationError",
                        "message": "email_address Not a valid email address"}]})
                api.requests.append({"path": self.path, "body": body})
                return self._answer(201, {"id": f"notify-{len(api.requests)}",
                                          "reference": body.get("reference"),
                                          "content": {"subject": "s", "body": "b"}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> NotifyApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Data helpers ------------------------------------------------------------------------

def item(number: int, **overrides) -> dict:
    """A published update as a digest source returns it."""
    data = {"kind": "update", "id": number, "title": f"Update {number}: shorter waits",
            "summary": f"Because of your data, clinic {number} now opens on Saturdays.",
            "url": f"http://localhost/updates/{number}",
            "published_at": datetime.now(UTC).isoformat(), "organisation": "Riverside",
            "organisation_id": None, "topics": ["sickle-cell"], "areas": ["Birmingham"],
            "language": "en", "priority": False}
    data.update(overrides)
    return data


def use_items(app, items: list[dict]) -> list[dict]:
    """Register a digest source (the documented extension point) returning ``items``."""
    sources = app.extensions.setdefault("feedback_digest_sources", [])
    sources.clear()
    sources.append(lambda since, until: list(items))
    return items


def make_audience(**data):
    from feedback.subscriptions.models import Audience, Cadence

    audience = Audience(name=data.pop("name", "Test digest"),
                        cadence=data.pop("cadence", Cadence.WEEKLY),
                        languages=data.pop("languages", ["en"]),
                        send_weekday=0, send_hour=0, sender_name="Test sender", **data)
    db.session.add(audience)
    db.session.commit()
    return audience


def add_subscribers(audience, count: int, languages=("en",), prefix: str = "reader"):
    """``count`` confirmed subscribers, inserted in bulk."""
    from sqlalchemy import insert

    from feedback.core.models import utcnow
    from feedback.subscriptions.models import Subscriber

    now = utcnow()
    rows = [{"audience_id": audience.id, "email": f"{prefix}{n}@example.org",
             "name": f"Reader {n}", "phone": "", "language": languages[n % len(languages)],
             "status": "confirmed", "created_at": now, "confirmed_at": now}
            for n in range(count)]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Subscriber), rows[start:start + 5000])
    db.session.commit()


def start_edition_now(audience, period: str = "2026-W47") -> int:
    from feedback.digests import services

    edition = services.create_and_start(audience.id, period)
    db.session.commit()
    return edition.id


def statements_while(action) -> list[str]:
    """The SQL statements the database received while ``action()`` ran."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return statements


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def notify_api():
    api = NotifyApi().start()
    yield api
    api.stop()
