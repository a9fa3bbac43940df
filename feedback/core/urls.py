"""Absolute links: the one place they are made.

Every link that leaves the site (emails, feeds, QR codes, API bodies, share links) is
built from ``FEEDBACK_BASE_URL``, never from the request. The ``Host`` header is chosen
by whoever sends the request, so a link built from it (``url_for(..., _external=True)``,
``request.host_url``) can point a sign-in token at an attacker's site. ``BASE_URL`` may
carry a path (``https://example.org/feedback``) when the site is served below the root.

Works with or without a request (jobs, the CLI, delivery workers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app, has_request_context, request
from werkzeug.routing import MapAdapter


def base_url() -> str:
    """``BASE_URL`` without a trailing slash."""
    return current_app.config["BASE_URL"].rstrip("/")


def _adapter() -> MapAdapter:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    base = app.config["BASE_URL"]
    cached = app.extensions.get("feedback_url_adapter")
    if cached is None or cached[0] != base:
        parts = urlsplit(base)
        adapter = app.url_map.bind(parts.netloc, script_name=parts.path.rstrip("/") or "/",
                                   url_scheme=parts.scheme or "https")
        cached = (base, adapter)
        app.extensions["feedback_url_adapter"] = cached
    return cached[1]


def external_url(endpoint: str, /, **values: Any) -> str:
    """The absolute address of ``endpoint`` on the public site, like ``url_for`` (with
    ``_anchor`` and the app's URL defaults) but always on ``BASE_URL``."""
    anchor = values.pop("_anchor", None)
    values.pop("_external", None)
    if endpoint.startswith("."):
        blueprint = request.blueprint if has_request_context() else None
        endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
    current_app.inject_url_defaults(endpoint, values)
    url = _adapter().build(endpoint, values, force_external=True)
    return url + (f"#{quote(anchor)}" if anchor else "")


# Values every URL builder leaves as they are (the unreserved characters): slugs.
_AS_IS = re.compile(r"[A-Za-z0-9._~-]+")
_STAND_IN = "--stand-in--"


def url_maker(build: Callable[..., str], endpoint: str, name: str, **values: Any
              ) -> Callable[[str], str]:
    """A function of one value that returns ``build(endpoint, name=value, **values)``
    (``build``: ``url_for`` or ``external_url``), for the same link made for every item
    of a list: the address is built once with a stand-in, then each value put in. A
    value with any other character than letters, digits and ``._~-`` is built the long
    way, so every address is the one ``build`` makes."""
    template = build(endpoint, **{name: _STAND_IN}, **values)
    if template.count(_STAND_IN) != 1:
        return lambda value: build(endpoint, **{name: value}, **values)
    before, after = template.split(_STAND_IN)

    def make(value: str) -> str:
        if _AS_IS.fullmatch(value):
            return f"{before}{value}{after}"
        return build(endpoint, **{name: value}, **values)

    return make


def site_path(url: str) -> str:
    """The path and query of one of our absolute links (for a ``next`` parameter)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def trusted_hosts(config: dict[str, Any]) -> list[str]:
    """``BASE_URL``'s host plus ``TRUSTED_HOSTS`` (comma-separated): the only ``Host``
    values a production site answers."""
    extra = config.get("TRUSTED_HOSTS") or ""
    if isinstance(extra, str):
        extra = extra.split(",")
    hosts = [urlsplit(config["BASE_URL"]).hostname or "", *extra]
    return list(dict.fromkeys(h.strip().lower() for h in hosts if h.strip()))


@contextmanager
def request_context() -> Iterator[None]:
    """Templates need a request (for the language); jobs and the CLI run without one.
    Inside a request, that request is used."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/", base_url=base_url()):
        yield
