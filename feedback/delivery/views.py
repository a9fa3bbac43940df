"""The GOV.UK Notify receipts callback, for every registered queue. (The operator page,
which pauses and resumes editions, is in ``feedback.digests.views``.)"""

from __future__ import annotations

from flask import Blueprint

from feedback.delivery import services
from feedback.delivery.callbacks import answer_notify_callback
from feedback.extensions import csrf

bp = Blueprint("delivery", __name__)


@bp.post("/delivery/notify/receipts")
@csrf.exempt  # called by GOV.UK Notify, authenticated by its bearer token
def notify_receipt():
    return answer_notify_callback(
        "NOTIFY_CALLBACK_TOKEN",
        lambda payload: {"recorded": services.record_receipt(payload)})
