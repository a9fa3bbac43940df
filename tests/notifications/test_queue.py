"""Queueing: publishing writes one notification row per follower, in the publication's own
transaction, with a few statements however many followers there are; no mail is sent in
the request."""

from __future__ import annotations

import time

from sqlalchemy import select

from feedback.accounts import services as accounts
from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import deliver_due
from feedback.extensions import db
from feedback.notifications.models import Notification, NotificationKind
from feedback.priorities import services as priorities
from feedback.subscriptions import services as subscriptions
from feedback.updates import services as updates
from feedback.updates.models import TermKind
from tests.digest_support import statements_while
from tests.notifications.conftest import add_followers
from tests.updates.conftest import update_data


def test_publishing_queues_one_row_per_follower_and_none_twice(
        make_user, make_update, trust, dataset, service, notifications, outbox):
    make_update(title="First")  # makes the topics
    topic = updates.get_term(TermKind.TOPIC, "sickle-cell")
    everything = make_user(email="everything@example.org")
    for target_type, target_id in (("organisation", trust.id), ("dataset", dataset.id),
                                   ("service", service.id), ("topic", topic.id)):
        updates.follow(everything, target_type, target_id)
    one_thing = make_user(email="one-thing@example.org")
    updates.follow(one_thing, "service", service.id)
    gone = make_user(email="gone@example.org")
    updates.follow(gone, "dataset", dataset.id)
    accounts.delete_account(gone)
    bounced = make_user(email="bounced@example.org")
    updates.follow(bounced, "dataset", dataset.id)
    subscriptions.suppress("bounced@example.org", "hard bounce")
    make_user(email="bystander@example.org")
    db.session.commit()

    update = make_update(title="Second")
    rows = notifications()
    assert [(row.kind, row.subject_id, row.user_id) for row in rows] == [
        (NotificationKind.NEW_UPDATE, update.id, everything.id),
        (NotificationKind.NEW_UPDATE, update.id, one_thing.id)]
    assert {row.status for row in rows} == {DeliveryStatus.PENDING}
    assert all(row.attempts == 0 and row.sent_at is None for row in rows)
    assert outbox.messages() == []


def test_the_web_request_only_queues(client, sign_in_as, editor, make_user, make_update,
                                     dataset, notifications, outbox):
    follower = make_user(email="reader@example.org")
    updates.follow(follower, "dataset", dataset.id)
    db.session.commit()
    draft = make_update(publish=False)
    sign_in_as(editor)
    assert client.post(f"/updates/{draft.slug}/publish").status_code == 302
    assert outbox.messages() == []
    [row] = notifications()
    assert (row.user_id, row.status) == (follower.id, DeliveryStatus.PENDING)
    assert deliver_due() == 1 and outbox.last()["To"] == "reader@example.org"


def test_a_publication_rolled_back_queues_nothing(make_user, make_update, dataset,
                                                  notifications):
    follower = make_user()
    updates.follow(follower, "dataset", dataset.id)
    db.session.commit()
    draft = make_update(publish=False)
    updates.publish_update(None, draft)
    db.session.rollback()  # for example, the commit failed
    assert notifications() == []
    assert updates.get_update(draft.id).is_draft


def test_queueing_takes_the_same_few_statements_for_3_or_600_followers(
        make_update, dataset, trust, notifications):
    counts = {}
    for followers in (3, 600):
        add_followers(followers, "dataset", dataset.id, prefix=f"f{followers}-")
        draft = make_update(publish=False, title=f"For {followers}")
        db.session.expire_all()

        def publish(draft=draft):
            updates.publish_update(None, updates.get_update(draft.id))
            db.session.commit()

        started = time.perf_counter()
        statements = statements_while(publish)
        assert time.perf_counter() - started < 10
        assert len([s for s in statements if "notifications" in s]) == 1  # INSERT ... SELECT
        # Publishing also queues its new text for translation, which varies with the text.
        counts[followers] = len([s for s in statements if "translation_segment" not in s])
    assert counts[3] == counts[600] <= 12
    assert len(notifications()) == 3 + 603  # the first followers follow both


def test_an_update_answering_a_priority_emails_each_follower_once(
        make_round, make_user, organiser, trust, dataset, notifications):
    round_ = make_round("responses")
    priority = priorities.get_priority(priorities.current_shortlist(round_).entries[0]
                                       .priority_id)
    both = make_user(email="both@example.org")
    priorities.follow_priority(both, priority)
    updates.follow(both, "dataset", dataset.id)
    other = make_user(email="dataset-only@example.org")
    updates.follow(other, "dataset", dataset.id)
    db.session.commit()
    update = updates.create_update(organiser, trust, update_data(
        dataset, answers_priority_id=str(priority.id)))
    updates.publish_update(organiser, update)
    db.session.commit()
    # One email per update per person, however many of their follows match it.
    assert {(row.kind, row.user_id) for row in notifications()} == {
        (NotificationKind.PRIORITY_UPDATE, both.id), (NotificationKind.NEW_UPDATE, other.id)}


def test_a_changed_response_is_sent_again_but_never_queued_twice(
        make_round, make_user, organiser, notifications, outbox):
    round_ = make_round("results")
    priority = priorities.get_priority(priorities.current_shortlist(round_).entries[0]
                                       .priority_id)
    follower = make_user(email="follower@example.org")
    priorities.follow_priority(follower, priority)
    db.session.commit()
    text = "Midlands Health Research Partnership will study waiting times for pain relief."
    priorities.publish_response(organiser, priority, "will_research", text)
    priorities.publish_response(organiser, priority, "will_research", text + " Soon.")
    db.session.commit()
    [row] = notifications()  # changed before it went: still one email, the latest text
    assert row.kind == NotificationKind.PRIORITY_RESPONSE and row.subject_id == priority.id
    assert deliver_due() == 1
    assert "Soon." in outbox.text(outbox.last())
    first_id = outbox.last()["Message-ID"]

    time.sleep(1.1)  # a new Message-ID has a new queued time, to the second
    priorities.publish_response(organiser, priority, "in_progress", text)
    db.session.commit()
    [row] = notifications()
    assert (row.status, row.attempts, row.sent_at) == (DeliveryStatus.PENDING, 0, None)
    assert deliver_due() == 1
    assert len(outbox.messages()) == 2 and outbox.last()["Message-ID"] != first_id
    assert db.session.scalar(select(Notification.status)) == DeliveryStatus.SENT
