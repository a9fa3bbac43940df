"""What ``/metrics`` reports. Request latency is measured in each web process; everything
else is read from the database when Prometheus scrapes, so any web worker gives the same
answer and the scheduler and delivery workers need no endpoint of their own."""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Iterator

from flask import Flask, current_app, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from feedback.core.models import utcnow
from feedback.delivery import queues
from feedback.delivery.models import DeliveryStatus
from feedback.extensions import db
from feedback.metrics.models import SchedulerRun

WAITING = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)

REQUEST_SECONDS = Histogram(
    "feedback_request_duration_seconds", "Time to answer a request, per endpoint.",
    ["endpoint", "method"], registry=None)


def enabled(app: Flask) -> bool:
    return bool(app.config["METRICS_TOKEN"] or app.config["METRICS_ALLOW"])


def allowed() -> bool:
    """A bearer token equal to ``METRICS_TOKEN``, or a client address in ``METRICS_ALLOW``."""
    import hmac

    config = current_app.config
    token = config["METRICS_TOKEN"]
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(item.strip(), strict=False)
               for item in config["METRICS_ALLOW"].split(",") if item.strip())


def init_request_timing(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response):
        started = g.get("metrics_started")
        if started is not None:
            record_request(request.endpoint or "unmatched", request.method,
                           time.perf_counter() - started)
        return response

    app.extensions["page_cache"].on_served.append(record_request)  # pages served before Flask


def record_request(endpoint: str, method: str, seconds: float) -> None:
    REQUEST_SECONDS.labels(endpoint, method).observe(seconds)


def record_run(job_id: str, *, started: bool, succeeded: bool = False) -> None:
    """The scheduler notes each job's start and end (its own transaction)."""
    run = db.session.get(SchedulerRun, job_id) or SchedulerRun(job_id=job_id)
    now = utcnow()
    if started:
        run.started_at, run.holder = now, f"{socket.gethostname()}:{os.getpid()}"
    else:
        run.finished_at = now
        if succeeded:
            run.succeeded_at = now
    db.session.add(run)
    db.session.commit()


class DatabaseCollector(Collector):
    """Outbox, translation and scheduler figures, read at scrape time."""

    def collect(self) -> Iterator:
        yield from self._outbox()
        yield from self._translation()
        yield from self._scheduler()

    def _outbox(self) -> Iterator:
        depth = GaugeMetricFamily(
            "feedback_outbox_messages", "Outbox rows per queue, channel and status "
            "(sent and failed are the messages sent and failed).",
            labels=["queue", "channel", "status"])
        oldest = GaugeMetricFamily(
            "feedback_outbox_oldest_queued_seconds",
            "Age of the oldest message waiting to be sent (0 when none waits).",
            labels=["queue"])
        now = utcnow()
        # Every queue registered with the delivery worker, labelled by its table's name.
        for model in (queue_class.model for queue_class in queues.registered()):
            queue = model.__tablename__
            channel = model.channel if hasattr(model, "channel") else None
            columns = [model.status, func.count()] + ([channel] if channel is not None else [])
            statement = select(*columns).group_by(model.status, *(
                [channel] if channel is not None else []))
            counts = {(row[2].value if channel is not None else "email", row[0].value): row[1]
                      for row in db.session.execute(statement)}
            channels = {name for name, _ in counts} or {"email"}
            for channel_name in sorted(channels):
                for status in DeliveryStatus:
                    depth.add_metric([queue, channel_name, status.value],
                                     counts.get((channel_name, status.value), 0))
            first = db.session.scalar(select(func.min(model.created_at)).where(
                model.status.in_(WAITING)))
            oldest.add_metric([queue], (now - first).total_seconds() if first else 0.0)
        yield depth
        yield oldest

    def _translation(self) -> Iterator:
        from feedback.translation.models import SegmentStatus, TranslationSegment
        from feedback.translation.services import provider_usage

        counts = dict(db.session.execute(select(TranslationSegment.status, func.count())
                                         .group_by(TranslationSegment.status)).all())
        yield _gauge("feedback_translation_segments",
                     "Translation memory rows per status (pending is the queue).", "status",
                     {status.value: counts.get(status, 0) for status in SegmentStatus})
        usage = provider_usage(utcnow().strftime("%Y-%m"))
        yield _gauge("feedback_translation_characters",
                     "Characters sent to each provider this month (UTC).", "provider",
                     {row["provider"]: row["characters"] for row in usage})
        yield _gauge("feedback_translation_budget_characters",
                     "Monthly character budget per provider (0: no limit).", "provider",
                     {row["provider"]: row["budget"] for row in usage})

    def _scheduler(self) -> Iterator:
        from feedback.scheduler import JOBS, SchedulerLock

        runs = {run.job_id: run for run in db.session.scalars(select(SchedulerRun))}

        def when(job_id: str, column: str) -> float:
            moment = getattr(runs.get(job_id), column, None)
            return moment.timestamp() if moment else 0.0

        yield _gauge("feedback_scheduler_last_run_timestamp_seconds",
                     "When each job last started (Unix time; 0: never).", "job",
                     {job_id: when(job_id, "started_at") for job_id, _, _ in JOBS})
        yield _gauge("feedback_scheduler_last_success_timestamp_seconds",
                     "When each job last finished without an error.", "job",
                     {job_id: when(job_id, "succeeded_at") for job_id, _, _ in JOBS})
        holder = SchedulerLock(current_app._get_current_object()).holder()
        info = InfoMetricFamily("feedback_scheduler_lock",
                                "The scheduler holding the lock (host:pid; none: no "
                                "scheduler is running).")
        info.add_metric([], {"holder": holder or "none"})
        yield info
        held = GaugeMetricFamily("feedback_scheduler_lock_held",
                                 "1 when a scheduler holds the lock.")
        held.add_metric([], 1 if holder else 0)
        yield held


def _gauge(name: str, documentation: str, label: str, values: dict) -> GaugeMetricFamily:
    """A gauge with one label, one sample per key of ``values``."""
    gauge = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        gauge.add_metric([key], value)
    return gauge


def exposition() -> bytes:
    """The text Prometheus scrapes from this web process."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # several gunicorn workers
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_RequestCollector())
    registry.register(DatabaseCollector())
    return generate_latest(registry)


class _RequestCollector(Collector):
    def collect(self) -> Iterator:
        yield from REQUEST_SECONDS.collect()
