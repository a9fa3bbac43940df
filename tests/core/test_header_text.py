"""Any character in any field that reaches an email header or subject (issue 13, item 2).

Hypothesis feeds characters of every Unicode general category through:
- the one normalisation point for single-line fields (``clean_text``), which refuses
  controls, format characters (but ZWNJ/ZWJ), line and paragraph separators;
- the header builders, for text that bypassed validation (old rows, translations);
- the real forms and API, then the real delivery worker and an SMTP server: either the
  input is refused with a 400 and a clear message, or the message parses and is sent.
"""

from __future__ import annotations

import email
import email.policy
import unicodedata
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from feedback import create_app
from feedback.core.mail import build_message, mailbox, safe_header_text
from feedback.core.models import utcnow
from feedback.core.validation import (
    JOINERS,
    SINGLE_LINE_REFUSED,
    ValidationError,
    clean_text,
    refused_in_single_line,
)
from feedback.delivery.mime import Skeleton
from feedback.delivery.services import Worker
from feedback.extensions import db
from tests.conftest import login
from tests.digest_support import SmtpSink

CATEGORIES = ["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd",
              "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc",
              "Cf", "Cs", "Co", "Cn"]
# The clear reasons a refusal gives (the field's own check, or the request-wide one).
REFUSALS = ("must be one line of visible text", "characters that are not allowed",
            "contains control characters", "not valid UTF-8", "not valid Unicode")
QUICK = settings(max_examples=25, deadline=None)


def in_category(category: str) -> st.SearchStrategy[str]:
    """Text with at least one character of ``category`` in it, among ordinary words."""
    special = st.characters(categories=[category])
    return st.tuples(st.text(max_size=8), special, st.text(max_size=8)).map("".join)


@pytest.fixture(scope="module")
def bare_app():
    """An app for code that needs only settings and gettext (no database)."""
    return create_app({"SECRET_KEY": "x", "RUN_SCHEDULER": False, "TESTING": True,
                       "BASE_URL": "https://feedback.example.org"})


def single_line_ok(text: str) -> bool:
    return not any(c not in JOINERS and unicodedata.category(c) in SINGLE_LINE_REFUSED
                   for c in text)


@pytest.mark.parametrize("category", CATEGORIES)
def test_single_line_fields_accept_only_safe_text(bare_app, category):
    @QUICK
    @given(in_category(category))
    def check(value: str) -> None:
        with bare_app.test_request_context():
            try:
                cleaned = clean_text(value, label="a title", max_length=500)
            except ValidationError as error:
                assert error.message.startswith("A title ")
                stripped = value.strip()
                assert not single_line_ok(stripped) or any(
                    "\ud800" <= c <= "\udfff" for c in stripped)
                return
        assert cleaned == unicodedata.normalize("NFC", cleaned)
        assert single_line_ok(cleaned)

    check()


def test_joiners_that_indic_scripts_need_are_kept(bare_app):
    with bare_app.test_request_context():
        for text in ("क्\u200dष", "ন\u200cা", "Line\u2028separator", "a\u200bb", "tab\there"):
            try:
                assert clean_text(text, label="a title", max_length=50) == text
                assert "\u200c" in text or "\u200d" in text
            except ValidationError as error:
                assert "\u200c" not in text and "\u200d" not in text
                assert "invisible character (U+" in error.message


def _parse(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert not message.defects, message.defects
    return message


def _same(header: str, text: str) -> bool:
    """The same text, but for whitespace (folding long encoded words may add a space)."""
    return "".join(str(header).split()) == "".join(safe_header_text(text).split())


@pytest.mark.parametrize("category", CATEGORIES)
def test_any_text_makes_a_message_that_parses(bare_app, category):
    """Rendering is safe whatever the text: bulk (``Skeleton``) and transactional
    (``build_message``) messages parse, carry the text, and gain no header."""

    @QUICK
    @given(in_category(category))
    def check(text: str) -> None:
        with bare_app.app_context():
            shared = [("From", mailbox(text, "news@example.org")), ("Subject", text),
                      ("List-Id", f"{text} <audience-1.feedback.example.org>")]
            raw = Skeleton(shared).message(
                to="reader@example.org", message_id="<1@feedback.example.org>",
                unsubscribe_url="https://feedback.example.org/u/1", text=text, html=text)
            bulk = _parse(raw)
            assert _same(bulk["Subject"], text)
            assert _same(bulk["From"].addresses[0].display_name, text)
            one = _parse(bytes(build_message("reader@example.org", text, text, headers={
                "List-Id": f"{text} <audience-1.feedback.example.org>"})))
            assert _same(one["Subject"], text)
            for message in (bulk, one):
                assert set(message.keys()) <= {
                    "From", "To", "Subject", "List-Id", "Date", "Message-ID",
                    "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version",
                    "Content-Type", "Content-Transfer-Encoding"}

    check()


# End to end: the real forms and API, the worker, an SMTP server --------------------------

@pytest.fixture
def app_config(smtp_sink):
    return {**smtp_sink.config(), "DELIVERY_CHANNEL": "smtp"}


@pytest.mark.long
def test_newsletter_names_and_update_titles_are_refused_or_delivered(
        app, smtp_sink, make_org, make_user, make_dataset):
    """Every category, through the partner newsletter settings form (name and sender
    name reach Subject, From and List-Id) and the API's update title (the follower
    email's Subject): a 400 with the reason, or an email the SMTP server accepted."""
    from feedback.api import tokens
    from feedback.digests import services as digests
    from feedback.notifications.models import Notification
    from feedback.subscriptions import services as subscriptions
    from feedback.subscriptions.models import Audience, Subscriber
    from feedback.updates import services as updates
    from feedback.updates.models import Update
    from tests.updates.conftest import update_data

    sink: SmtpSink = smtp_sink
    org = make_org(kind="vcse", name="Apna Health Forum")
    staff = make_user(org=org, email="staff@apna.example.org")
    dataset = make_dataset(org)
    updates.follow(staff, "dataset", dataset.id)
    secret, _record = tokens.create_token(None, org, "tests")
    db.session.commit()
    client = app.test_client()
    login(client, staff)
    auth = {"Authorization": f"Bearer {secret}"}
    counter = iter(range(1_000_000))

    def delivered(expected: int) -> list[email.message.EmailMessage]:
        before = len(sink.messages)
        Worker().run()
        received = sink.messages[before:]
        assert not any(m.defects for m in received)
        assert len(received) == expected
        return received

    @settings(max_examples=4, deadline=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(st.data())
    def check(data) -> None:
        for category in CATEGORIES:
            text = data.draw(in_category(category), label=category)
            # The newsletter's name and sender name.
            # Sent as a browser would, bytes and all (a lone surrogate as raw bytes).
            form = urlencode({name: value.encode("utf-8", "surrogatepass") for name, value in {
                "name": f"News {text}", "sender_name": f"Forum {text}", "languages": "en",
                "cadence": "weekly", "send_weekday": "0", "send_hour": "9"}.items()})
            response = client.post(f"/partners/{org.slug}/newsletter", data=form,
                                   content_type="application/x-www-form-urlencoded")
            if response.status_code == 400:
                page = response.get_data(as_text=True)
                assert any(reason in page for reason in REFUSALS)
            else:
                assert response.status_code == 302, response.status_code
                audience = subscriptions.partner_audience(org.id)
                db.session.execute(delete(Subscriber))
                subscriptions.add_contact(staff, audience, {
                    "email": f"contact{next(counter)}@example.org", "attested": True,
                    "basis": "paper form"})
                # Each time a new period, so a new edition.
                edition = digests.prepare_next(
                    staff, audience, now=utcnow() + timedelta(weeks=next(counter)))
                db.session.commit()
                assert client.post(f"/newsletter/editions/{edition.id}/send").status_code \
                    == 302
                [message] = delivered(1)
                assert " ".join(safe_header_text(audience.name).split()) in " ".join(
                    str(message["Subject"]).split())
                assert " ".join(safe_header_text(audience.sender_name).split()) == " ".join(
                    message["From"].addresses[0].display_name.split())
            # An update's title, through the API, then the follower email.
            body = update_data(dataset, title=f"Faster care {next(counter)} {text}")
            created = client.post("/api/v1/updates", json=body, headers=auth)
            if created.status_code == 400:
                message = created.json["errors"][0]["detail"]
                assert "title" in message.lower() or any(
                    reason in message for reason in REFUSALS), message
                continue
            assert created.status_code == 201, created.json
            update_id = created.json["data"]["id"]
            assert client.post(f"/api/v1/updates/{update_id}/publish",
                               headers=auth).status_code == 200
            [message] = delivered(1)
            title = db.session.get(Update, update_id).title
            assert " ".join(safe_header_text(title).split()) in " ".join(
                str(message["Subject"]).split())
        assert db.session.scalar(select(Notification).where(
            Notification.status != "sent")) is None
        assert db.session.scalar(select(Audience).where(Audience.name.contains("\u2028"))) \
            is None

    check()


@pytest.mark.parametrize("mark", ["\u200e", "\u200f", "\u061c", "\u2067", "\u2069"])
def test_right_to_left_marks_and_isolates_are_part_of_writing(mark):
    assert refused_in_single_line(f"اردو{mark} NHS") is None


@pytest.mark.parametrize("override", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e"])
def test_embeddings_and_overrides_that_reverse_text_are_refused(override):
    assert refused_in_single_line(f"Title{override}eltit") == override
