"""The site in the pseudo-locale: no English that never went through a catalog.

The demo is seeded once for this module. Every role (anonymous, member, editor, org
admin, partner staff, moderator, platform admin) then crawls every page it can reach:
each GET route without arguments, and every link found on the way: two addresses of
each route for the first role, one for each role after it (enough to see what differs by
role, fast enough for CI). Then it sends each form it found empty (the
error path). Every email kind is rendered in the pseudo-locale, and the API's error
messages are asked for in it (the crawl skips /api/: its answers are JSON).
``tests/pseudo_support.py`` says what counts as a leak.

Leaks found must be fixed, not listed: ``feedback/translations/leaks.toml`` records the
count from the last crawl for /languages, and this test keeps it true.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from feedback.extensions import db
from tests.conftest import database_url_for_test, login, make_test_app
from tests.pseudo_support import Leak, html_leaks, soup_leaks, text_leaks

# Which words went through a catalog does not depend on the database: CI runs it once.
pytestmark = pytest.mark.once

PSEUDO = "en-XA"
PER_ENDPOINT = {"anonymous": 2}  # addresses of each route to visit; other roles: 1
ROLES = {
    "anonymous": None,
    "member": "member@feedback-demo.example.org",
    "editor": "editor@riverside.example.org",
    "org admin": "admin@riverside.example.org",
    "partner staff": "staff@apna.example.org",
    "moderator": "moderator@feedback-demo.example.org",
    "platform admin": "admin@feedback-demo.example.org",
}
SKIPPED_PREFIXES = ("/static/", "/language", "/sign-out", "/healthz", "/api/")
HTML_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
LEAKS_FILE = Path(__file__).resolve().parents[2] / "feedback" / "translations" / "leaks.toml"


@pytest.fixture(scope="module")
def demo_app(migrated_database, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("pseudo")
    application = make_test_app(database_url_for_test(migrated_database, tmp_path),
                                tmp_path, PSEUDO_LOCALE=True)
    with application.app_context():
        from feedback.demo import seed

        seed()
        db.session.commit()
        yield application
        db.session.remove()
        db.engine.dispose()
    if migrated_database["kind"] == "postgresql":
        from tests.conftest import _truncate_all

        _truncate_all(application)


def _client(app: Flask, email: str | None):
    from sqlalchemy import select

    from feedback.accounts.models import User

    client = app.test_client()
    if email:
        login(client, db.session.scalar(select(User).where(User.email == email)))
    with client.session_transaction() as session:
        session["language"] = PSEUDO
    return client


def _start_urls(app: Flask) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments
                  and not rule.rule.startswith(SKIPPED_PREFIXES))


def _endpoint(app: Flask, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except Exception:  # not a page of ours (redirects, 404s, other methods)
        return None
    return endpoint


# Tables whose text is not content people wrote: the audit log (action codes are marked
# as identifiers, summaries as English records) and secrets.
NOT_CONTENT_TABLES = {"audit_events", "sign_in_tokens", "api_tokens", "alembic_version"}


def content_strings() -> list[str]:
    """Every piece of text people wrote that the demo stored (names, titles, topics...),
    longest first. Enum columns are interface, not content, and are left out."""
    import sqlalchemy as sa

    found: set[str] = set()

    def add(value) -> None:
        if isinstance(value, str):
            if value.strip():
                found.add(" ".join(value.split()))
        elif isinstance(value, (list, tuple)):
            for item in value:
                add(item)
        elif isinstance(value, dict):
            for item in value.values():
                add(item)

    for table in db.metadata.sorted_tables:
        if table.name in NOT_CONTENT_TABLES:
            continue
        columns = [column for column in table.columns
                   if isinstance(column.type, (sa.String, sa.Text, sa.JSON))
                   and not isinstance(column.type, sa.Enum)]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for value in row:
                add(value)
    return sorted(found, key=len, reverse=True)


def is_content(text: str, content: list[str]) -> bool:
    """``text`` is made only of stored content (and punctuation, numbers, allowed words)."""
    from tests.pseudo_support import untranslated

    rest = text
    for known in content:
        if known in rest:
            rest = rest.replace(known, " ")
    return not untranslated(rest)


class Crawl:
    def __init__(self, app: Flask):
        self.app = app
        self.pages = 0
        self.error_paths = 0
        self.leaks: list = []
        self.forms: dict[str, tuple[str, str]] = {}  # endpoint -> (role, action)

    def check_html(self, where: str, html: str) -> None:
        self.leaks.extend(html_leaks(html, where))

    def visit(self, role: str, client) -> None:
        seen: set[str] = set()
        per_endpoint: Counter = Counter()
        queue = deque(_start_urls(self.app))
        while queue:
            url = queue.popleft()
            path = urlsplit(url).path
            if url in seen or path.startswith(SKIPPED_PREFIXES):
                continue
            seen.add(url)
            endpoint = _endpoint(self.app, path)
            if endpoint is None or per_endpoint[endpoint] >= PER_ENDPOINT.get(role, 1):
                continue
            per_endpoint[endpoint] += 1
            response = client.get(url)
            if response.status_code in (301, 302, 303, 307, 308):
                queue.append(urlsplit(response.headers["Location"]).path)
                continue
            if response.mimetype != "text/html":
                continue
            soup = BeautifulSoup(response.get_data(as_text=True), "lxml")
            self.pages += 1
            self.leaks.extend(soup_leaks(soup, f"{role} GET {url} ({response.status_code})"))
            for link in soup.find_all("a", href=True):
                target = urljoin(url, link["href"])
                parts = urlsplit(target)
                if parts.netloc not in ("", "localhost"):
                    continue
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
            for form in soup.find_all("form"):
                if (form.get("method") or "get").lower() != "post":
                    continue
                action = urlsplit(urljoin(url, form.get("action") or url)).path
                try:
                    form_endpoint = self.app.url_map.bind("localhost").match(
                        action, method="POST")[0]
                except Exception:
                    continue
                self.forms.setdefault(f"{role}:{form_endpoint}", (role, action))

    def post_empty_forms(self, clients: dict) -> None:
        """Each form, sent with nothing filled in: its error messages must be translated.
        Destructive forms are sent last, by the role that found them."""
        order = sorted(self.forms.values(), key=lambda item: any(
            word in item[1] for word in ("delete", "withdraw", "revoke", "remove")))
        for role, action in order:
            response = clients[role].post(action, data={}, follow_redirects=True)
            if response.mimetype != "text/html":
                continue
            self.error_paths += 1
            self.check_html(f"{role} POST {action} ({response.status_code})",
                            response.get_data(as_text=True))


@pytest.mark.long
def test_every_page_and_error_path_is_translatable_for_every_role(demo_app):
    crawl = Crawl(demo_app)
    clients = {role: _client(demo_app, email) for role, email in ROLES.items()}
    for role, client in clients.items():
        crawl.visit(role, client)
    crawl.post_empty_forms(clients)
    content = content_strings()
    verdicts: dict[str, bool] = {}
    unmarked = [leak for leak in crawl.leaks
                if verdicts.setdefault(leak.raw, is_content(leak.raw, content))]
    leaks = [leak for leak in crawl.leaks if not verdicts[leak.raw]]
    print(f"pseudo crawl: {crawl.pages} pages, {crawl.error_paths} error paths, "
          f"{len(leaks)} interface leaks ({len({leak.text for leak in leaks})} texts), "
          f"{len(unmarked)} unmarked content ({len({leak.text for leak in unmarked})} texts)")
    unique = sorted({(leak.text, leak.where.split(" (")[0]) for leak in leaks})
    import os
    if os.environ.get("PSEUDO_DUMP"):
        Path(os.environ["PSEUDO_DUMP"]).write_text("\n".join(
            f"{leak.text!r}\t{leak.where}\t{leak.context!r}" for leak in leaks))
    if os.environ.get("PSEUDO_DUMP_UNMARKED"):
        Path(os.environ["PSEUDO_DUMP_UNMARKED"]).write_text("\n".join(
            f"{leak.raw!r}\t{leak.where}\t{leak.context!r}" for leak in unmarked))
    report = "\n".join(f"{text!r} at {where}" for text, where in unique[:400])
    assert crawl.pages > 100
    assert not leaks, f"{len(unique)} texts are not translatable:\n{report}"
    # /languages states what this crawl found; content may only get better marked.
    with LEAKS_FILE.open("rb") as handle:
        recorded = tomllib.load(handle)
    assert recorded["interface_leaks"] == 0
    unmarked_texts = len({leak.raw for leak in unmarked})
    assert unmarked_texts <= recorded["unmarked_content"], (
        "people's content shown without its lang: "
        + ", ".join(sorted({leak.text for leak in unmarked})[:50]))
    if unmarked_texts < recorded["unmarked_content"]:
        print(f"lower unmarked_content in {LEAKS_FILE.name} to {unmarked_texts}")


# Emails ----------------------------------------------------------------------------

def _email_leaks(message, where: str, content: tuple[str, ...] = ()) -> list:
    """Leaks in one parsed email: its subject, HTML part, and text part. Plain text (and
    a subject) cannot mark people's content with its language, so there the content the
    HTML part marks, ``content`` and every stored text people wrote are taken out
    first: what is left is interface text."""
    from tests.pseudo_support import foreign_texts, text_leaks

    content = (*content, *content_strings())
    leaks = text_leaks(str(message["Subject"]), f"{where} subject", content)
    html_part = message.get_body(preferencelist=("html",))
    marked: list[str] = []
    if html_part is not None:
        html = html_part.get_content()
        leaks += html_leaks(html, f"{where} html")
        marked = foreign_texts(html)
    text = message.get_body(preferencelist=("plain",)).get_content()
    leaks += text_leaks(text, f"{where} text", (*marked, *content))
    tags = HTML_TAG.findall(text)
    if tags:  # plain-text parts carry no HTML
        leaks.append(Leak(f"{where} text", " ".join(tags), text))
    return leaks


def _last_email(outbox_dir: Path, count_before: int):
    import email
    import email.policy

    files = sorted(outbox_dir.glob("*.eml"))
    assert len(files) > count_before, "no email was written"
    return email.message_from_bytes(files[-1].read_bytes(), policy=email.policy.default)


def test_every_email_kind_is_translatable(demo_app):
    """Sign-in, both subscription confirmations, a digest, a partner newsletter, each
    follower notification and "your question was answered", each rendered in the
    pseudo-locale the way it is sent."""
    import email
    import email.policy

    from flask import url_for
    from sqlalchemy import select

    from feedback.accounts.models import User
    from feedback.delivery.services import deliver_due
    from feedback.digests import rendering
    from feedback.digests import services as digests
    from feedback.digests.selection import select_items
    from feedback.notifications.models import NotificationKind
    from feedback.notifications.services import enqueue
    from feedback.priorities import services as priorities
    from feedback.priorities.models import Priority
    from feedback.subscriptions import services as subscriptions
    from feedback.subscriptions.models import Audience
    from feedback.updates import services as updates
    from feedback.updates.models import Question, Update
    from feedback.updates.tasks import notify_asker

    outbox_dir = Path(demo_app.config["OUTBOX_DIR"])
    kinds: dict[str, list] = {}

    def written() -> int:
        return len(list(outbox_dir.glob("*.eml"))) if outbox_dir.exists() else 0

    # Sign-in, asked for on a page in the pseudo-locale.
    before = written()
    client = _client(demo_app, None)
    client.post("/sign-in", data={"email": "member@feedback-demo.example.org"})
    kinds["sign-in"] = _email_leaks(_last_email(outbox_dir, before), "sign-in")

    # Confirmations, in the language chosen on the form / by the partner.
    with demo_app.test_request_context("/"):
        before = written()
        subscriptions.subscribe({"email": "pseudo@example.org", "language": "en-XA",
                                 "cadence": "weekly"}, "/subscribe")
        db.session.commit()  # mail goes out once the sign-up is saved
        kinds["confirmation (platform)"] = _email_leaks(
            _last_email(outbox_dir, before), "confirmation (platform)")
        staff = db.session.scalar(select(User).where(User.email == "staff@apna.example.org"))
        partner_audience = db.session.scalar(select(Audience).where(
            Audience.organisation_id == staff.memberships[0].organisation_id))
        before = written()
        subscriptions._add_contact(partner_audience, "pseudo-partner@example.org", "Amina",
                                   "en-XA", attested=False, basis="", user=staff)
        db.session.commit()
        kinds["confirmation (partner)"] = _email_leaks(
            _last_email(outbox_dir, before), "confirmation (partner)",
            (partner_audience.name, partner_audience.organisation.name))
        db.session.commit()

    # A platform digest and a partner newsletter, as rendered for sending.
    for name, audience in (
            ("digest", subscriptions.platform_audience(
                subscriptions.Cadence.WEEKLY)),
            ("newsletter", partner_audience)):
        edition = digests.prepare_edition(audience.id, "2099-W01")
        edition.items = select_items(audience, None, edition.until)
        assert edition.items, f"the demo {name} has nothing in it"
        with demo_app.test_request_context("/"):
            version = rendering.render_version(audience, edition, edition.items, PSEUDO)
            html, text = rendering.personalise(version, "Amina", {
                "unsubscribe": url_for("core.home", _external=True),
                "manage": url_for("core.home", _external=True)})
        from feedback.core.mail import build_message

        raw = bytes(build_message("reader@example.org", version.subject, text, html))
        message = email.message_from_bytes(raw, policy=email.policy.default)
        kinds[name] = _email_leaks(message, name, (audience.name, "Amina"))
    db.session.rollback()

    # Follower notifications, through the queue and a delivery worker.
    member = db.session.scalar(select(User).where(
        User.email == "member@feedback-demo.example.org"))
    member.language = PSEUDO
    update = db.session.scalar(select(Update).where(
        Update.published_at.is_not(None), Update.answers_priority_id.is_not(None)))
    responded = db.session.scalar(select(Priority).where(
        Priority.response_status.is_not(None)))
    updates.follow(member, "organisation", update.organisation_id)
    priorities.follow_priority(member, update.answers_priority)
    priorities.follow_priority(member, responded)
    only_member = select(User.id).where(User.id == member.id)
    for kind, subject in ((NotificationKind.NEW_UPDATE, update.id),
                          (NotificationKind.PRIORITY_UPDATE, update.id),
                          (NotificationKind.PRIORITY_RESPONSE, responded.id)):
        enqueue(kind, subject, only_member)
    db.session.commit()
    before = written()
    deliver_due()
    sent = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(outbox_dir.glob("*.eml"))[before:]]
    sent = [message for message in sent if message["To"] == member.email]
    assert len(sent) >= 3  # and any the demo had queued for them
    content = (update.title, update.summary, update.organisation.name,
               update.answers_priority.title, responded.title, responded.response_text or "",
               update.what_changed or "")
    for number, message in enumerate(sent):
        kinds[f"follower notification {number + 1}"] = _email_leaks(
            message, f"follower notification {number + 1}", content)

    # "Your question was answered", in the asker's language.
    question = db.session.scalar(select(Question).where(Question.answer.has()))
    question.author.language = PSEUDO
    db.session.commit()
    before = written()
    assert notify_asker(question.id)
    kinds["question answered"] = _email_leaks(
        _last_email(outbox_dir, before), "question answered",
        (question.body, question.answer.body, question.update.title,
         question.update.organisation.name))

    leaks = [leak for found in kinds.values() for leak in found]
    print(f"pseudo emails: {len(kinds)} emails, {len(leaks)} leaks")
    assert len(kinds) >= 10
    assert not leaks, "\n".join(str(leak) for leak in leaks)


def test_no_plain_text_part_has_html(demo_app):
    """No text/plain part has HTML in it: checked on every digest and newsletter, where
    content is Markdown, in English, Urdu and the pseudo-locale (the other emails'
    text parts are checked by the test above)."""
    from sqlalchemy import select as sa_select

    from feedback.digests import rendering
    from feedback.digests import services as digests
    from feedback.digests.selection import select_items
    from feedback.subscriptions import services as subscriptions
    from feedback.subscriptions.models import Audience

    audiences = [subscriptions.platform_audience(subscriptions.Cadence.WEEKLY),
                 *db.session.scalars(sa_select(Audience).where(
                     Audience.organisation_id.is_not(None)))]
    for audience in audiences:
        edition = digests.prepare_edition(audience.id, "2099-W02")
        edition.items = select_items(audience, None, edition.until)
        for code in ("en", "ur", PSEUDO):
            with demo_app.test_request_context("/"):
                version = rendering.render_version(audience, edition, edition.items, code)
            assert not HTML_TAG.search(version.text), (audience.name, code, version.text)
            assert "&amp;" not in version.text
    db.session.rollback()


# The API's errors ------------------------------------------------------------------

API_ERRORS = [  # (method, address): every kind of error the API answers with
    ("GET", "/api/v1/organisations/nobody"), ("GET", "/api/v1/datasets/nothing"),
    ("GET", "/api/v1/services/nothing"), ("GET", "/api/v1/updates/999999"),
    ("GET", "/api/v1/updates?per_page=0"), ("GET", "/api/v1/datasets?page=0"),
    ("GET", "/api/v1/organisations?kind=alien"), ("GET", "/api/v1/rounds/nothing"),
    ("GET", "/api/v1/priorities/999999"), ("POST", "/api/v1/updates"),
]


def test_the_apis_error_messages_are_translatable(demo_app):
    client = demo_app.test_client()
    leaks = []
    for method, url in API_ERRORS:
        address = f"{url}{'&' if '?' in url else '?'}lang={PSEUDO}"
        response = client.open(address, method=method)
        assert response.status_code >= 400 and response.is_json, address
        for error in response.json["errors"]:
            for name in ("title", "detail"):
                leaks += text_leaks(error[name], f"{method} {address} {name}")
    assert not leaks, "\n".join(map(str, leaks))
    unknown = client.get("/api/v1/updates?lang=xx", headers={"Accept-Language": PSEUDO})
    assert unknown.status_code == 400


# The pseudo-locale itself ---------------------------------------------------------

def test_the_pseudo_locale_keeps_placeholders_and_markup():
    from scripts.pseudo_locale import pseudo

    assert pseudo("Sign in") == "⟦Ŝîĝñ îñ⟧"
    assert pseudo("Hello %(name)s, <a href=\"/x\">read</a> &amp; {n} %d 5%%") == (
        "⟦Ĥêļļô %(name)s, <a href=\"/x\">ŕêâð</a> &amp; {n} %d 5%%⟧")


def test_it_can_be_chosen_in_development_but_is_never_offered(client):
    page = client.get("/language?code=en-XA", follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en-XA"' in page and "⟦" in page
    for path in ("/", "/languages", "/language", "/subscribe"):
        assert "en-XA" not in client.get(path).get_data(as_text=True).replace(
            '<html lang="en-XA"', "")


def test_it_is_off_in_production(make_app, tmp_path):
    from feedback.config import load_settings
    from feedback.core.languages import get_language

    assert load_settings(tmp_path, {"ENV": "production", "SECRET_KEY": "x"})[
        "PSEUDO_LOCALE"] is False
    assert load_settings(tmp_path, {"SECRET_KEY": "x"})["PSEUDO_LOCALE"] is True
    switched_off = make_app(PSEUDO_LOCALE=False)
    with switched_off.app_context():
        assert get_language("en-XA") is None


def test_isolated_content_counts_as_marked_only_in_the_page_title():
    """A <title> cannot hold an element, so content isolated with U+2068…U+2069 is all
    the marking it can have; in the body, isolates without a lang are still a leak."""
    from tests.pseudo_support import html_leaks

    title = ('<html lang="en-XA"><head><title>⟦Ṽôţê⟧ – \u2068Sickle cell\u2069 – Feedback '
             'Loop</title></head><body></body></html>')
    assert html_leaks(title, "title") == []
    bare = '<html lang="en-XA"><head><title>⟦Ṽôţê⟧ – Sickle cell</title></head></html>'
    assert [leak.text for leak in html_leaks(bare, "title")] == ["– Sickle cell"]
    body = '<html lang="en-XA"><body><p>⟦Ṽôţê⟧ \u2068Sickle cell\u2069</p></body></html>'
    assert [leak.text for leak in html_leaks(body, "body")] == ["\u2068Sickle cell\u2069"]
