"""Prometheus metrics at ``/metrics``: request latency, the outbox, translation, and the
scheduler. Off unless ``METRICS_TOKEN`` or ``METRICS_ALLOW`` is set."""
