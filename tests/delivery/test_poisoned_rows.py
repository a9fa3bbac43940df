"""One row that cannot be built or sent never stops the rest (issue 13, item 2): it is
marked failed with the reason, the rows behind it are delivered, and a row whose worker
died on every attempt is failed instead of being claimed for ever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from feedback.core.models import utcnow
from feedback.delivery.models import DeliveryStatus
from feedback.digests.models import Delivery, Edition, EditionStatus
from feedback.extensions import db
from feedback.scheduler import run_job
from feedback.subscriptions.models import Subscriber
from tests.digest_support import add_subscribers, item, make_audience, start_edition_now, use_items

POISON = "reader1@example.org\r\nBcc: everyone@example.org"


def _poisoned_edition(app) -> int:
    """Five recipients; the second has an address with a header break in it, written
    straight to the table (validation would refuse it). The newsletter's name has a line
    separator in it, written the same way (rendering makes it safe)."""
    use_items(app, [item(1)])
    audience = make_audience(name="Harambee\u2028news")
    add_subscribers(audience, 5)
    db.session.execute(update(Subscriber).where(Subscriber.email == "reader1@example.org")
                       .values(email=POISON))
    db.session.commit()
    return start_edition_now(audience)


def _check_outcome(outbox, edition_id: int) -> None:
    db.session.expire_all()
    rows = {row.subscriber.email: row for row in db.session.scalars(select(Delivery))}
    poisoned = rows.pop(POISON)
    assert poisoned.status == DeliveryStatus.FAILED
    assert "could not send: ValueError" in poisoned.last_error
    assert {row.status for row in rows.values()} == {DeliveryStatus.SENT}
    assert sorted(m["To"] for m in outbox.messages()) == [
        f"reader{n}@example.org" for n in (0, 2, 3, 4)]
    for message in outbox.messages():
        assert message["Subject"].startswith("Harambee news")
        assert "Bcc" not in message
    assert db.session.get(Edition, edition_id).status == EditionStatus.SENT


def test_feedback_deliver_once_skips_a_poisoned_row(app, outbox):
    edition_id = _poisoned_edition(app)
    result = app.test_cli_runner().invoke(args=["deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert "Sent 4 messages." in result.output
    _check_outcome(outbox, edition_id)


def test_the_scheduler_delivery_job_skips_a_poisoned_row(app, outbox):
    edition_id = _poisoned_edition(app)
    run_job(app, "feedback.delivery.tasks:deliver_outbox")
    _check_outcome(outbox, edition_id)


@pytest.mark.parametrize("status", [DeliveryStatus.SENDING, DeliveryStatus.PENDING])
def test_a_row_at_the_attempt_cap_is_failed_not_claimed(app, outbox, status):
    """A row whose worker died on every attempt (left ``sending``, its lease run out)."""
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 3)
    edition_id = start_edition_now(audience)
    first = db.session.scalar(select(Delivery).order_by(Delivery.id))
    first.status, first.attempts = status, app.config["DELIVERY_MAX_ATTEMPTS"]
    first.claimed_at = utcnow() - timedelta(days=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["deliver", "--once"])
    assert result.exit_code == 0 and "Sent 2 messages." in result.output
    db.session.expire_all()
    assert first.status == DeliveryStatus.FAILED and "gave up" in first.last_error
    assert first.attempts == app.config["DELIVERY_MAX_ATTEMPTS"]  # never claimed again
    assert len(outbox.messages()) == 2
    assert db.session.get(Edition, edition_id).status == EditionStatus.SENT


def test_a_follower_email_with_a_broken_address_does_not_stop_the_others(
        app, outbox, make_user, make_org):
    """The follower queue shares the worker: the same rule holds there."""
    from feedback.accounts.models import User
    from feedback.notifications.models import Notification
    from feedback.organisations import services as organisations
    from feedback.updates import services as updates
    from tests.updates.conftest import update_data

    org = make_org()
    dataset = organisations.create_dataset(None, org, {"name": "Maternity records"})
    people = [make_user(email=f"follower{n}@example.org") for n in range(3)]
    for person in people:
        updates.follow(person, "dataset", dataset.id)
    db.session.commit()
    db.session.execute(update(User).where(User.id == people[0].id).values(
        email="follower0@example.org\nBcc: x@example.org"))
    update_ = updates.create_update(None, org, update_data(dataset))
    updates.publish_update(None, update_)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["deliver", "--once"])
    assert result.exit_code == 0 and "Sent 2 messages." in result.output
    statuses = {user_id: status for user_id, status in db.session.execute(
        select(Notification.user_id, Notification.status))}
    assert statuses == {people[0].id: DeliveryStatus.FAILED,
                        people[1].id: DeliveryStatus.SENT, people[2].id: DeliveryStatus.SENT}
