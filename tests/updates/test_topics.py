"""Topics are a curated list: editors pick from it and suggest new ones, which readers
see only once a platform moderator approves them."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from feedback.audit.models import AuditEvent
from feedback.extensions import db
from feedback.updates import services, topics
from feedback.updates.models import Term, TermKind


@pytest.mark.parametrize(("typed", "listed"), [
    ("discharge", "Discharge"), ("  sickle   cell ", "Sickle cell"), ("NHS data", "NHS data"),
    ("eGFR tests", "eGFR tests"), ("Émigré health", "Émigré health"),
])
def test_topic_names_are_normalised(typed, listed):
    assert topics.normalise_name(typed) == listed


def _page(client, path):
    return BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")


def test_an_editors_new_topic_waits_for_a_moderator(client, sign_in_as, editor, make_user,
                                                     make_update, dataset):
    listed = make_update(topics=["Sickle cell"])  # the operator's seed: on the list
    sign_in_as(editor)
    form = _page(client, f"/organisations/{listed.organisation.slug}/updates/new")
    assert [box["value"] for box in form.select("input[name=topics]")] == ["Sickle cell"]

    draft = services.create_update(editor, listed.organisation, {
        **_data(dataset), "topics": ["Sickle cell", "discharge"]})
    services.publish_update(editor, draft)
    db.session.commit()
    suggestion = db.session.scalar(select(Term).where(Term.slug == "discharge"))
    assert suggestion.name == "Discharge" and not suggestion.approved
    assert [t.name for t in draft.topics] == ["Sickle cell"]
    assert [t.name for t in draft.suggested_topics] == ["Discharge"]
    assert [t.name for t in services.list_terms(TermKind.TOPIC)] == ["Sickle cell"]
    page = client.get(f"/updates/{draft.slug}").get_data(as_text=True)
    assert "Discharge" not in page and "Sickle cell" in page
    assert client.get("/moderation").status_code == 200
    assert "Suggested topics" not in client.get("/moderation").get_data(as_text=True)

    moderator = make_user(role="moderator")
    sign_in_as(moderator)
    [card] = _page(client, "/moderation").select("[data-testid=suggested-topic]")
    assert "Discharge" in card.get_text() and "used by 1 update" in card.get_text()
    response = client.post(f"/moderation/topics/{suggestion.id}",
                           data={"decision": "approve", "name": "Hospital discharge"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [t.name for t in services.get_update(draft.id).topics] == [
        "Hospital discharge", "Sickle cell"]
    assert "Hospital discharge" in client.get(f"/updates/{draft.slug}").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.summary).where(
        AuditEvent.action == "topic.approved")) == "Approved the topic Hospital discharge"
    assert client.post(f"/moderation/topics/{suggestion.id}",
                       data={"decision": "approve"}).status_code == 404  # not waiting now


def test_a_suggestion_named_like_a_listed_topic_is_merged_into_it(make_update, editor,
                                                                   make_user, dataset):
    listed = make_update(topics=["Maternity"])
    other = services.create_update(editor, listed.organisation, {
        **_data(dataset, title="Second"), "topics": ["Maternity care"]})
    db.session.commit()
    suggestion = other.suggested_topics[0]
    merged = topics.approve(make_user(role="moderator"), suggestion, "maternity")
    db.session.commit()
    assert merged.name == "Maternity"
    assert [t.name for t in services.get_update(other.id).topics] == ["Maternity"]
    assert db.session.get(Term, suggestion.id) is None


def test_a_rejected_topic_leaves_every_update(client, sign_in_as, make_update, editor,
                                              make_user, dataset):
    listed = make_update()
    draft = services.create_update(editor, listed.organisation, {
        **_data(dataset), "topics": ["Things"]})
    db.session.commit()
    term_id = draft.suggested_topics[0].id
    sign_in_as(make_user(role="moderator"))
    client.post(f"/moderation/topics/{term_id}", data={"decision": "reject"})
    db.session.expire_all()
    assert db.session.get(Term, term_id) is None
    assert services.get_update(draft.id).suggested_topics == []


def test_only_platform_moderators_decide_topics(client, sign_in_as, make_update, editor,
                                                dataset):
    listed = make_update()
    draft = services.create_update(editor, listed.organisation, {
        **_data(dataset), "topics": ["Things"]})
    db.session.commit()
    sign_in_as(editor)
    response = client.post(f"/moderation/topics/{draft.suggested_topics[0].id}",
                           data={"decision": "approve"})
    assert response.status_code == 403
    assert not db.session.get(Term, draft.suggested_topics[0].id).approved


def _data(dataset, **overrides):
    from tests.updates.conftest import update_data

    return update_data(dataset, **overrides)
