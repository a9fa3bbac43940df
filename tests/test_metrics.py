"""``/metrics`` for Prometheus: off unless configured, guarded by a token or an address,
and the outbox figures follow a send as it happens."""

from __future__ import annotations

import os

import pytest
from prometheus_client.parser import text_string_to_metric_families

from feedback.delivery.services import Worker
from feedback.scheduler import SchedulerLock, run_job
from tests.digest_support import (
    add_subscribers,
    item,
    make_audience,
    start_edition_now,
    use_items,
)

TOKEN = "scrape-me"
READERS = 5


@pytest.fixture
def app_config() -> dict:
    return {"METRICS_TOKEN": TOKEN, "DELIVERY_BATCH_SIZE": 2}


def scrape(client) -> dict:
    """{(name, labels as a sorted tuple): value} from one scrape."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def outbox(figures: dict, status: str) -> float:
    return figures[("feedback_outbox_messages", (("channel", "email"),
                                                 ("queue", "deliveries"),
                                                 ("status", status)))]


def test_the_outbox_depth_changes_during_a_send(app, client):
    use_items(app, [item(1)])
    audience = make_audience()
    add_subscribers(audience, READERS)
    start_edition_now(audience)

    queued = scrape(client)
    assert outbox(queued, "pending") == READERS and outbox(queued, "sent") == 0
    assert queued[("feedback_outbox_oldest_queued_seconds", (("queue", "deliveries"),))] >= 0

    worker = Worker()
    try:
        assert worker.run_batch() == 2  # one batch of DELIVERY_BATCH_SIZE
        during = scrape(client)
        assert outbox(during, "pending") == READERS - 2 and outbox(during, "sent") == 2
        worker.run()
    finally:
        worker.channel.close()
    after = scrape(client)
    assert outbox(after, "pending") == 0 and outbox(after, "sent") == READERS
    assert after[("feedback_outbox_oldest_queued_seconds", (("queue", "deliveries"),))] == 0
    assert outbox(after, "failed") == 0
    assert after[("feedback_outbox_messages", (("channel", "email"), ("queue", "notifications"),
                                               ("status", "pending")))] == 0
    # Every queue registered with the worker is reported, the confirmations' too.
    reported = {dict(labels)["queue"] for name, labels in after
                if name == "feedback_outbox_oldest_queued_seconds"}
    assert reported == {"deliveries", "notifications", "subscription_confirmations"}


def test_request_latency_translation_and_scheduler_figures(app, client):
    client.get("/healthz")
    figures = scrape(client)
    assert figures[("feedback_request_duration_seconds_count",
                    (("endpoint", "core.healthz"), ("method", "GET")))] >= 1
    assert figures[("feedback_translation_segments", (("status", "pending"),))] == 0
    never = ("feedback_scheduler_last_run_timestamp_seconds", (("job", "deliver-outbox"),))
    assert figures[never] == 0
    assert figures[("feedback_scheduler_lock_held", ())] == 0

    run_job(app, "feedback.delivery.tasks:deliver_outbox", job_id="deliver-outbox")
    lock = SchedulerLock(app)
    try:
        assert lock.try_acquire()
        figures = scrape(client)
        assert figures[never] > 0
        assert figures[("feedback_scheduler_last_success_timestamp_seconds",
                        (("job", "deliver-outbox"),))] >= figures[never]
        assert figures[("feedback_scheduler_lock_held", ())] == 1
        holder = [labels for name, labels in figures if name == "feedback_scheduler_lock_info"]
        assert holder and dict(holder[0])["holder"].endswith(f":{os.getpid()}")
    finally:
        lock.release()
    assert scrape(client)[("feedback_scheduler_lock_held", ())] == 0


def test_metrics_refuse_without_the_token_or_an_allowed_address(app, client, make_app):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403

    allowed = make_app(METRICS_ALLOW="127.0.0.1, 10.0.0.0/8").test_client()
    assert allowed.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert allowed.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 403


def test_metrics_are_off_unless_configured(make_app):
    off = make_app(METRICS_TOKEN="", METRICS_ALLOW="").test_client()
    assert off.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
