"""``/metrics`` for Prometheus: 404 unless configured, 403 without the token or an
allowed address."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app
from prometheus_client import CONTENT_TYPE_LATEST

from feedback.extensions import csrf, limiter
from feedback.metrics import services

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@limiter.exempt
def metrics():
    if not services.enabled(current_app):
        abort(404)
    if not services.allowed():
        abort(403)
    return Response(services.exposition(), mimetype=CONTENT_TYPE_LATEST)


csrf.exempt(bp)
