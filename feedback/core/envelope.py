"""The one envelope for every JSON answer under ``/api/`` (documented in docs/api.md).

A success is ``{"data": ..., "links": {"self": ..., "next": ...}, "meta": {...}}``:
``data`` is one object or a list; ``links`` are absolute, built from ``FEEDBACK_BASE_URL``
by :func:`feedback.core.urls.external_url` (never from the request's ``Host``); ``meta``
holds paging and notes about the data (``{}`` when there are none).

A failure is ``{"errors": [{"status", "code", "title", "detail", "source"}]}``: ``status``
is the HTTP status as a number, ``code`` a stable machine-readable word, ``title`` the
status in words, ``detail`` what went wrong, and ``source`` (or null) which input:
``{"parameter": "lang"}`` for the query string or the path, ``{"pointer": "/title"}``
(a JSON Pointer) for the body. ``title`` and ``detail`` are in the reader's language
(``?lang=``, else ``Accept-Language``: see :func:`use_requested_language`).

Numbers are JSON numbers. A published count that small-number suppression hides
(:mod:`feedback.core.suppression`) is ``null``, and the object it sits in names the reason
under ``suppressed``: ``{"chose": null, "suppressed": {"chose": "..."}}``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_babel import refresh

from feedback.core.urls import external_url

CODES = {400: "invalid", 401: "unauthorised", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large",
         415: "unsupported_media_type", 422: "unprocessable", 429: "too_many_requests",
         500: "server_error", 503: "unavailable"}
TITLES = {400: _l("Bad request"), 401: _l("Unauthorised"), 403: _l("Forbidden"),
          404: _l("Not found"), 405: _l("Method not allowed"), 409: _l("Conflict"),
          410: _l("Gone"), 413: _l("Too large"), 415: _l("Unsupported media type"),
          422: _l("Unprocessable"), 429: _l("Too many requests"), 500: _l("Server error"),
          503: _l("Unavailable")}


def use_requested_language() -> None:
    """Before each API request: ``title`` and ``detail`` in the language ``?lang=`` names
    when it is one we offer (the language the content comes back in), else in the one
    ``Accept-Language`` prefers (``current_language``; an API client has no session).
    ``code`` and ``source`` stay the same in every language, for programs."""
    from feedback.core.languages import get_language

    language = get_language(request.args.get("lang", ""))
    if language is not None:
        g.language_override = language
        refresh()


class ApiError(Exception):
    """An error answer: ``parameter`` names a query or path parameter, ``pointer`` a
    place in the JSON body (``/title``, ``/evidence_links/0/url``)."""

    def __init__(self, status: int, detail: str, *, parameter: str | None = None,
                 pointer: str | None = None, code: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code
        self.parameter, self.pointer = parameter, pointer

    @property
    def source(self) -> dict[str, str] | None:
        if self.parameter:
            return {"parameter": self.parameter}
        if self.pointer is not None:
            return {"pointer": self.pointer}
        return None


def self_link() -> str:
    """This request's own address (endpoint, path values and query) on ``BASE_URL``."""
    values: dict[str, Any] = dict(request.view_args or {})
    values.update(request.args.to_dict(flat=False))
    return external_url(request.endpoint or "", **values)


def document(data: Any, *, next_link: str | None = None, meta: dict[str, Any] | None = None,
             status: int = 200) -> Response:
    """A success in the envelope."""
    response = jsonify({"data": data, "links": {"self": self_link(), "next": next_link},
                        "meta": meta or {}})
    response.status_code = status
    return response


def error_body(status: int, detail: str | None = None, *, code: str | None = None,
               title: str | None = None, source: dict[str, str] | None = None) -> dict:
    title = title or str(TITLES.get(status, _l("Error")))
    return {"errors": [{"status": status, "code": code or CODES.get(status, "error"),
                        "title": title, "detail": detail or title, "source": source}]}


def error_document(error: ApiError) -> Response:
    """An :class:`ApiError` in the envelope (a 401 also says how to authenticate)."""
    response = jsonify(error_body(error.status, error.detail, code=error.code,
                                  source=error.source))
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="feedback-api"'
    return response


def suppressed_fields(counts: dict[str, Any], reason: str) -> dict[str, Any]:
    """``counts`` (name -> :class:`PublishedCount` or None) as numbers, with ``null`` for
    each suppressed one and a ``suppressed`` object giving the reason for each."""
    out: dict[str, Any] = {}
    hidden: dict[str, str] = {}
    for name, count in counts.items():
        value = None if count is None else count.value
        if count is not None and count.value is None:
            hidden[name] = reason
        out[name] = value
    out["suppressed"] = hidden
    return out


def envelope_schema(data: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI schema of a success in the envelope, around ``data``'s schema."""
    return {"type": "object", "required": ["data", "links", "meta"],
            "additionalProperties": False,
            "properties": {"data": data, "links": {"$ref": "#/components/schemas/Links"},
                           "meta": meta or {"type": "object"}}}
