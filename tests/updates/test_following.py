"""Following an organisation, dataset, service or topic, and the email on publishing
(queued with the publication, sent by the delivery worker)."""

from __future__ import annotations

from bs4 import BeautifulSoup

from feedback.delivery.services import deliver_due
from feedback.extensions import db
from feedback.updates import services
from feedback.updates.models import Follow, FollowTarget, TermKind


def _follow(client, target_type, target_id, action=None):
    data = {"target_type": target_type, "target_id": str(target_id), "next": "/updates"}
    if action:
        data["action"] = action
    return client.post("/follow", data=data)


def test_followers_are_emailed_once_when_a_matching_update_is_published(
        client, sign_in_as, make_user, editor, make_update, dataset, trust, outbox):
    reader = make_user(email="reader@example.org")
    sign_in_as(reader)
    assert _follow(client, "dataset", dataset.id).status_code == 302
    assert _follow(client, "organisation", trust.id).status_code == 302  # same person, once
    page = client.get(f"/datasets/{dataset.slug}").get_data(as_text=True)
    assert "Stop following" in page
    make_user(email="bystander@example.org")

    draft = make_update(publish=False)
    sign_in_as(editor)
    client.post(f"/updates/{draft.slug}/publish")
    assert outbox.messages() == []  # the request only queues it
    assert deliver_due() == 1
    [message] = outbox.messages()
    assert message["To"] == "reader@example.org"
    assert message["Subject"] == "New update: Faster pain relief for sickle cell crises in A&E"
    text = outbox.text(message)
    assert "Faster pain relief for sickle cell crises in A&E" in text  # plain text, unescaped
    assert f"http://localhost/updates/{draft.slug}" in outbox.links(message)
    assert "http://localhost/following" in outbox.links(message)


def test_following_a_topic_and_unfollowing(client, sign_in_as, make_user, make_update, outbox):
    reader = make_user(email="topic@example.org")
    make_update()  # makes the topic
    topic = services.get_term(TermKind.TOPIC, "sickle-cell")
    anonymous = client.get("/updates?topic=sickle-cell").get_data(as_text=True)
    assert "Sign in to follow" in anonymous
    sign_in_as(reader)
    # The topic's page (and so every update's topic tag, which links to it) offers it.
    page = BeautifulSoup(client.get("/updates?topic=sickle-cell").get_data(as_text=True),
                         "html.parser").find(attrs={"data-testid": "topic-follow"})
    assert "Sickle cell" in page.get_text()
    form = {field["name"]: field["value"] for field in page.find_all("input")
            if field.get("name") != "csrf_token"}
    assert form == {"target_type": "topic", "target_id": str(topic.id),
                    "next": "/updates?topic=sickle-cell"}
    assert client.post("/follow", data=form).headers["Location"] == "/updates?topic=sickle-cell"
    assert services.is_following(reader, FollowTarget.TOPIC, topic.id)
    assert "Sickle cell" in client.get("/following").get_data(as_text=True)

    second = make_update(publish=False, title="Another sickle cell update")
    services.publish_update(None, second)
    db.session.commit()
    assert deliver_due() == 1
    assert outbox.last()["To"] == "topic@example.org"

    third = make_update(title="A third sickle cell update")  # queued for the reader...
    _follow(client, "topic", topic.id, action="unfollow")  # ...who stops following first
    assert not services.is_following(reader, FollowTarget.TOPIC, topic.id)
    assert deliver_due() == 0
    assert third.title not in outbox.last()["Subject"]


def test_following_something_that_does_not_exist_is_a_400(login_as, make_user):
    client = login_as(make_user())
    assert _follow(client, "dataset", 999_999).status_code == 400
    assert _follow(client, "planet", 1).status_code == 400
    assert _follow(client, "dataset", "abc").status_code == 400


def test_deleted_accounts_are_not_emailed(make_user, make_update, dataset):
    reader = make_user(email="gone@example.org")
    services.follow(reader, "dataset", dataset.id)
    reader.deleted_at = reader.created_at
    reader.email = None
    db.session.commit()
    make_update()
    assert deliver_due() == 0


def test_a_topic_only_a_draft_uses_cannot_be_followed_or_seen(client, sign_in_as, make_user,
                                                               make_update):
    """Issue 13 item 12: a topic made by a draft is as private as the draft."""
    make_update(publish=False, topics=["Unannounced merger plans"])
    secret = services.get_term(TermKind.TOPIC, "unannounced-merger-plans")
    reader = make_user(email="curious@example.org")
    sign_in_as(reader)
    assert _follow(client, "topic", secret.id).status_code == 400
    assert not services.is_following(reader, FollowTarget.TOPIC, secret.id)
    # A follow made while the topic was public (or before this fix) is not shown either.
    db.session.add(Follow(user_id=reader.id, target_type=FollowTarget.TOPIC,
                                   target_id=secret.id))
    db.session.commit()
    assert "Unannounced merger plans" not in client.get("/following").get_data(as_text=True)
    assert _follow(client, "topic", secret.id, action="unfollow").status_code == 302
    assert not services.is_following(reader, FollowTarget.TOPIC, secret.id)
