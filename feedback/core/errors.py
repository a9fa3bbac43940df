"""Friendly error pages, and JSON errors under /api/ (in the envelope of
feedback/core/envelope.py)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from feedback.core.envelope import error_body
from feedback.core.exceptions import Forbidden, NotFound, ValidationError
from feedback.extensions import db

log = logging.getLogger(__name__)

TITLES = {  # lazily translated, so each response uses its own language
    400: _l("There is a problem with your request"),
    403: _l("You do not have permission to see or do this"),
    404: _l("Page not found"),
    405: _l("That action is not allowed here"),
    410: _l("This link no longer works"),
    413: _l("What you sent is too large"),
    429: _l("Too many attempts"),
    500: _l("Sorry, there is a problem with the service"),
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str | None = None):
    title = str(TITLES.get(status, _l("Something went wrong")))
    if wants_json():
        body = jsonify(error_body(status, message or title, title=title))
    else:
        body = render_template("errors/error.html", status=status, title=title,
                               message=message)
    return make_response(body, status)


def register_error_handlers(app: Flask) -> None:
    # Services raise domain exceptions; here they become pages (or JSON under /api/).
    @app.errorhandler(Forbidden)
    def forbidden(error: Forbidden):
        db.session.rollback()
        return error_response(403, error.message or None)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        db.session.rollback()
        return error_response(404, error.message or None)

    @app.errorhandler(ValidationError)
    def invalid(error: ValidationError):
        db.session.rollback()
        return error_response(400, error.message or None)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(400, _("Your form expired or was sent from another site. "
                                     "Go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if isinstance(error, InternalServerError):
            return internal_error(error)
        if isinstance(error, SecurityError):  # a Host we do not serve: no page, no links
            return make_response(str(TITLES[400]), 400, {"Content-Type": "text/plain"})
        status = error.code or 500
        if error.response is not None and status != 429:
            return error.response
        default = type(error).description
        message = error.description if error.description != default else None
        if status == 429:
            message = _("You have tried this too many times. Wait a few minutes and try "
                        "again.")
        response = error_response(status, message)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def internal_error(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)
