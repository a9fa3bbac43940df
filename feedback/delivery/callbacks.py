"""GOV.UK Notify's callbacks (delivery receipts, received text messages): each checks
Notify's bearer token, reads one JSON object and answers in the API's envelope."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

from feedback.core.envelope import ApiError, document, error_document
from feedback.extensions import db


def answer_notify_callback(token_setting: str,
                           handle: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    """Check the bearer token in the ``token_setting`` setting (empty: the callback is off),
    pass the JSON object to ``handle``, commit, and answer with what it returns."""
    expected = current_app.config[token_setting]
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return error_document(ApiError(401, "Send the callback token: Authorization: Bearer ..."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_document(ApiError(400, "The body must be a JSON object.", pointer=""))
    answer = handle(payload)
    db.session.commit()
    return document(answer)
