"""Each outbox queue lives with its domain and registers with the delivery worker, which
sends them in registration order and finds a receipt's queue by its reference."""

from __future__ import annotations

from sqlalchemy import select

from feedback.delivery import queues
from feedback.delivery.services import Worker, claim_batch, record_receipt
from feedback.digests.models import Delivery, Edition
from feedback.digests.sending import DigestQueue, pause
from feedback.extensions import db
from feedback.notifications.sending import NotificationQueue
from feedback.subscriptions.sending import ConfirmationQueue
from tests.digest_support import (
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    use_items,
)


def test_the_app_registers_each_domains_queue_in_the_order_the_worker_sends_them(app):
    assert queues.registered() == [DigestQueue, NotificationQueue, ConfirmationQueue]
    assert [type(queue) for queue in Worker(channel=object()).queues] == queues.registered()


def test_registering_a_queue_twice_keeps_one(app):
    queues.register(app, NotificationQueue)
    assert queues.registered().count(NotificationQueue) == 1


def test_a_receipt_reference_names_its_queue_by_prefix(app):
    assert queues.for_reference("17") == (DigestQueue, "17")
    assert queues.for_reference("notification-17") == (NotificationQueue, "17")
    assert queues.for_reference("confirmation-17") == (ConfirmationQueue, "17")


def test_a_receipt_for_no_row_is_not_recorded(app):
    for reference in ("17", "notification-17", "confirmation-17", "notification-x", ""):
        assert record_receipt({"reference": reference, "status": "delivered"}) is False


def test_a_claim_takes_the_oldest_sending_editions_rows_first_and_skips_paused_ones(app):
    """A digest claim goes one sending edition at a time, oldest first, and fills the
    batch from the next one; a paused edition's rows wait."""
    use_items(app, [item(1)])
    editions = []
    for name in ("First", "Paused", "Third"):
        audience = make_audience(name=name)
        add_subscribers(audience, 3, prefix=name.lower())
        editions.append(start_edition_now(audience))
    pause(db.session.get(Edition, editions[1]))
    db.session.commit()

    def claimed(token: str) -> list[int]:
        return db.session.scalars(select(Delivery.edition_id).where(
            Delivery.claim_token == token).order_by(Delivery.id)).all()

    assert claimed(claim_batch(4, queue=DigestQueue)) == [editions[0]] * 3 + [editions[2]]
    assert claimed(claim_batch(4, queue=DigestQueue)) == [editions[2]] * 2
    assert claim_batch(4, queue=DigestQueue) is None
