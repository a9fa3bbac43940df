"""Each organisation's updates are writable only by its own editors: an editor of trust A
gets 403 on every writing route for trust B's updates, and nothing changes."""

from __future__ import annotations

import pytest

from feedback.extensions import db
from feedback.updates import questions
from feedback.updates.models import Question, QuestionStatus, Update
from tests.updates.test_editor import count_updates, form


@pytest.fixture
def other_editor(make_org, make_user):
    trust_a = make_org(name="Trust A")
    return make_user(org=trust_a, org_role="admin")


@pytest.fixture
def question(make_update, make_user):
    update = make_update()
    asked = Question(update_id=update.id, author_id=make_user().id, body="Why?",
                     status=QuestionStatus.PUBLISHED)
    db.session.add(asked)
    db.session.commit()
    return asked


def test_editors_of_another_trust_get_403_on_every_writing_route(
        client, sign_in_as, other_editor, make_update, trust, dataset, service, question):
    draft = make_update(publish=False, title="Trust B draft")
    published = make_update(title="Trust B published")
    pending = Question(update_id=published.id, body="Pending?")
    db.session.add(pending)
    db.session.commit()
    sign_in_as(other_editor)
    routes = [
        ("get", f"/organisations/{trust.slug}/updates", None),
        ("get", f"/organisations/{trust.slug}/updates/new", None),
        ("post", f"/organisations/{trust.slug}/updates/new", form(dataset, service)),
        ("get", f"/updates/{published.slug}/edit", None),
        ("post", f"/updates/{published.slug}/edit", form(dataset, service, change_note="x")),
        ("post", f"/updates/{draft.slug}/edit", form(dataset, service)),
        ("post", f"/updates/{draft.slug}/publish", {}),
        ("post", f"/updates/{draft.slug}/delete", {}),
        ("get", f"/updates/{published.slug}/withdraw", None),
        ("post", f"/updates/{published.slug}/withdraw", {"reason": "Because"}),
        ("post", f"/questions/{question.id}/answer", {"body": "An answer"}),
        ("post", f"/moderation/questions/{pending.id}", {"decision": "approve"}),
    ]
    for method, path, data in routes:
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 403, (method, path, response.status_code)
    db.session.expire_all()
    assert db.session.get(Update, draft.id).status == "draft"
    assert db.session.get(Update, published.id).status == "published"
    assert db.session.get(Update, published.id).title == "Trust B published"
    assert count_updates() == 3
    assert db.session.get(Question, question.id).answer is None
    assert db.session.get(Question, pending.id).status == QuestionStatus.PENDING
    # And they do not see the other trust's questions in their moderation queue.
    assert questions.moderation_queue(other_editor).questions == []


def test_signed_out_people_are_sent_to_sign_in(client, make_update, trust):
    update = make_update()
    for path in [f"/organisations/{trust.slug}/updates/new", f"/updates/{update.slug}/edit",
                 f"/updates/{update.slug}/withdraw", "/moderation", "/following"]:
        response = client.get(path)
        assert response.status_code == 302 and "/sign-in" in response.location, path
