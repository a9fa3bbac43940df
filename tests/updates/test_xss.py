"""XSS vectors pushed through every text and Markdown field, in the web forms and in the
API. None may survive as live markup in pages, feeds, JSON or emails."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from sqlalchemy import select

from feedback.delivery.services import deliver_due
from feedback.extensions import db
from feedback.updates import questions
from feedback.updates.models import Question, Update

VECTORS = [
    "<script>alert('x1')</script>",
    "<img src=x onerror=alert('x2')>",
    "\"><svg onload=alert('x3')>",
    "'><iframe src=javascript:alert('x4')></iframe>",
    "[click me](javascript:alert('x5'))",
    "<a href=\"javascript:alert('x6')\">link x6</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('x7')>",
    "<details open ontoggle=alert('x8')>x8</details>",
    "{{ 7*7 }} {% raw %}x9{% endraw %}",
    "![x10](javascript:alert('x10')) <style>body{display:none}</style>",
    "<body onload=alert('x11')> &lt;script&gt;x11",
    "<a href=\"data:text/html,<script>alert('x12')</script>\">x12</a>",
]
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
FORBIDDEN_TAGS = {"iframe", "object", "embed", "style", "math", "base"}


class LiveMarkup(HTMLParser):
    """Collects anything that would run: handlers, script, dangerous links and tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>")
            if (name in {"href", "src", "action", "formaction", "xlink:href"} and value
                    and value.strip().lower().startswith(DANGEROUS_SCHEMES)):
                self.problems.append(f"<{tag} {name}={value}>")
        if tag == "script" and not attributes.get("src", "").startswith("/static/"):
            self.problems.append("<script>")
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "img" and not (attributes.get("src") or "").startswith(("/", "http")):
            self.problems.append(f"<img src={attributes.get('src')}>")


def assert_no_live_markup(html: str, where: str) -> None:
    parser = LiveMarkup()
    parser.feed(html)
    assert parser.problems == [], f"{where}: {parser.problems}"


def text_fields(vector: str) -> dict:
    return {
        "title": f"Title {vector}", "summary": f"Summary {vector}",
        "body": f"## Body\n\n{vector}\n\n* item {vector}", "what_changed": f"Changed {vector}",
        "who_benefits": f"Benefits {vector}", "purpose": f"Purpose {vector}",
        "legal_basis": f"Legal {vector}", "kind": "finding",
        "opt_out_applied": "no",
    }


def check_everywhere(client, update: Update, outbox) -> None:
    pages = ["/", "/updates", "/updates?q=title", f"/updates/{update.slug}",
             f"/organisations/{update.organisation.slug}",
             f"/datasets/{update.datasets[0].slug}", "/updates?topic=topic"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_live_markup(response.get_data(as_text=True), path)
    feed = client.get("/updates.atom")
    root = ET.fromstring(feed.data)  # well-formed XML: nothing broke out of its element
    for content in root.iter("{http://www.w3.org/2005/Atom}content"):
        assert_no_live_markup(content.text or "", "feed content")
    api = client.get(f"/api/v1/updates/{update.id}").json["data"]
    assert_no_live_markup(api["body_html"], "API body_html")
    assert api["title"].startswith("Title ")  # other JSON fields are plain text
    for message in outbox.messages():
        assert message.get_body(preferencelist=("html",)) is None  # plain text only
        assert message.get_content_type() == "text/plain"


def test_vectors_through_the_web_forms(client, sign_in_as, editor, trust, dataset, service,
                                       make_user, outbox):
    from feedback.updates import services

    follower = make_user(email="follower@example.org")
    asker = make_user(email="asker@example.org", name="Asker")
    services.follow(follower, "dataset", dataset.id)
    db.session.commit()
    for vector in VECTORS:
        sign_in_as(editor)
        data = {**text_fields(vector), "datasets": [str(dataset.id)],
                "services": [str(service.id)], "topics": f"Topic, {vector}",
                "areas": f"Area {vector}", "community_tags": f"People {vector}",
                "evidence_links": f"Evidence {vector} | https://example.org/e",
                "action": "save"}
        response = client.post(f"/organisations/{trust.slug}/updates/new", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        update = db.session.scalars(select(Update).order_by(Update.id.desc())).first()
        client.post(f"/updates/{update.slug}/publish")
        client.post(f"/updates/{update.slug}/edit",
                    data={**data, "what_changed": f"Changed again {vector}",
                          "change_note": f"Note {vector}"})
        sign_in_as(asker)
        client.post(f"/updates/{update.slug}/questions", data={"body": f"Question {vector}"})
        question = db.session.scalars(select(Question).order_by(Question.id.desc())).first()
        sign_in_as(editor)
        client.post(f"/moderation/questions/{question.id}", data={"decision": "approve"})
        client.post(f"/questions/{question.id}/answer", data={"body": f"Answer {vector}"})
        update = db.session.get(Update, update.id)
        assert update.revisions and question.answer is not None, vector
        questions.ask_question(asker, update, f"Pending {vector}")
        db.session.commit()
        deliver_due()  # the follower's email, queued when it was published
        check_everywhere(client, update, outbox)
    assert_no_live_markup(client.get("/moderation").get_data(as_text=True), "moderation")
    assert len(outbox.messages()) == 2 * len(VECTORS)  # the follower and the asker, each
    for update in db.session.scalars(select(Update)).all():
        client.post(f"/updates/{update.slug}/withdraw", data={"reason": f"Reason {update.id} "
                                                                       f"{VECTORS[0]}"})
        assert_no_live_markup(client.get(f"/updates/{update.slug}").get_data(as_text=True),
                              "withdrawn page")


def test_vectors_through_the_api(client, auth, dataset, outbox):
    for vector in VECTORS:
        body = {**text_fields(vector), "datasets": [dataset.id],
                "topics": ["Topic", vector], "areas": [f"Area {vector}"],
                "community_tags": [f"People {vector}"],
                "evidence_links": [{"title": f"Evidence {vector}",
                                    "url": "https://example.org"}],
                "publish": True}
        created = client.post("/api/v1/updates", json=body, headers=auth)
        assert created.status_code == 201, created.json
        update_id = created.json["data"]["id"]
        edited = client.patch(f"/api/v1/updates/{update_id}",
                              json={"body": f"New {vector}", "change_note": f"Note {vector}"},
                              headers=auth)
        assert edited.status_code == 200, edited.json
        check_everywhere(client, db.session.get(Update, update_id), outbox)
        withdrawn = client.post(f"/api/v1/updates/{update_id}/withdraw",
                                json={"reason": f"Reason {vector}"}, headers=auth)
        assert withdrawn.status_code == 200
        assert_no_live_markup(client.get(f"/updates/{withdrawn.json['data']['slug']}")
                              .get_data(as_text=True), "withdrawn page")
