"""Backoff, giving up, and the rate limit (development outbox channel)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from feedback.core.models import utcnow
from feedback.delivery.models import DeliveryStatus
from feedback.delivery.services import Worker
from feedback.digests.models import Delivery
from feedback.extensions import db
from feedback.subscriptions.models import Suppression
from tests.digest_support import (
    NOTIFY_API_KEY,
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    use_items,
)


@pytest.fixture
def app_config(notify_api):
    return {"DELIVERY_CHANNEL": "notify", "NOTIFY_API_KEY": NOTIFY_API_KEY,
            "NOTIFY_BASE_URL": notify_api.url, "NOTIFY_EMAIL_TEMPLATE_ID": "t",
            "DELIVERY_RETRY_SECONDS": 60, "DELIVERY_MAX_ATTEMPTS": 3}


def test_temporary_failures_back_off_doubling_then_give_up(app, notify_api):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 1)
    start_edition_now(audience)
    notify_api.plan = [500, 502, 503]
    delays = []
    for _attempt in range(3):
        before = utcnow()
        Worker().run()
        delivery = db.session.scalar(select(Delivery))
        if delivery.status == DeliveryStatus.PENDING:
            delays.append((delivery.next_attempt_at - before).total_seconds())
            delivery.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
    assert [round(d, -1) for d in delays] == [60, 120]
    assert delivery.status == DeliveryStatus.FAILED and "gave up" in delivery.last_error
    assert db.session.scalars(select(Suppression)).all() == []  # temporary: no suppression


def test_the_rate_limit_spaces_messages(app, notify_api):
    app.config["DELIVERY_RATE_PER_SECOND"] = 20
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, 6)
    start_edition_now(audience)
    started = time.monotonic()
    assert Worker().run() == 6
    assert time.monotonic() - started >= 5 / 20
    assert len(notify_api.requests) == 6
