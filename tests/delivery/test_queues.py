"""Each outbox queue lives with its domain and registers with the delivery worker, which
sends them in registration order and finds a receipt's queue by its reference."""

from __future__ import annotations

from feedback.delivery import queues
from feedback.delivery.services import Worker, record_receipt
from feedback.digests.sending import DigestQueue
from feedback.notifications.sending import NotificationQueue
from feedback.subscriptions.sending import ConfirmationQueue


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
