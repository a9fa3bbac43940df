"""The GOV.UK Notify receipts callback, for every registered queue. (The operator page,
which pauses and resumes editions, is in ``feedback.digests.views``.)"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, request

from feedback.core.envelope import ApiError, document, error_document
from feedback.delivery import services
from feedback.extensions import csrf, db

bp = Blueprint("delivery", __name__)


@bp.post("/delivery/notify/receipts")
@csrf.exempt  # called by GOV.UK Notify, authenticated by its bearer token
def notify_receipt():
    expected = current_app.config["NOTIFY_CALLBACK_TOKEN"]
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return error_document(ApiError(401, "Send the callback token: Authorization: Bearer ..."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_document(ApiError(400, "The body must be a JSON object.", pointer=""))
    known = services.record_receipt(payload)
    db.session.commit()
    return document({"recorded": known})  # the API's envelope (feedback/core/envelope.py)
