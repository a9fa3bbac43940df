"""Whole-page caching for people who are not signed in (Flask-Caching).

An anonymous visitor's page depends only on its address and their language (their own,
``visitor_language``: a page asked for in another by ``?lang=`` has that in its address),
so it is kept in the cache (Redis in production, ``FEEDBACK_CACHE_URL``) for
``FEEDBACK_PAGE_CACHE_SECONDS`` and sent with an ``ETag`` and ``Cache-Control: public`` so
a CDN or reverse proxy can serve it too. Signed-in people, and anyone with something
waiting in their session (a flash message, a form), always get a freshly made page
marked ``private, no-store``.

A cached page is kept with the headers it was sent with the first time (the security
headers and CSP included), as a :class:`StoredPage`. It is served two ways:

- ``CachedPages``, a WSGI middleware in front of Flask, answers a GET or HEAD that sends
  no cookie and no ``Authorization`` header, for an address a ``cached_page`` view has
  answered in this process. Such a visitor has no session, so no flash message, form or
  sign-in, and their language is ``browser_language(Accept-Language)``: the page is looked
  up and sent without Flask (no session, user, CSRF, rate-limit or routing work). A page
  a rate limit applied to when it was made is left to Flask.
- Every other request reaches the view's ``cached_page`` wrapper, which decides with the
  session and the signed-in user, and answers from the cache or makes and stores the page.

Publishing, editing or withdrawing an update calls ``forget_pages()``: it moves the cache
to a new generation, so every cached page is dropped at once without scanning keys.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_app_context,
    has_request_context,
    make_response,
    request,
    session,
)
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_etags
from werkzeug.wsgi import get_host

from feedback.core.database import without_transaction
from feedback.core.timing import server_timing, timing_start
from feedback.extensions import cache, db, limiter

GENERATION_KEY = "page-generation"
FORGET_FLAG = "forget_pages"
# Session keys that do not change what an anonymous page shows (the language is in the
# cache key; a CSRF token is only used by forms, and cached pages have none).
NEUTRAL_SESSION_KEYS = {"language", "csrf_token", "_fresh", "_permanent"}
# Headers that belong to one response, never kept with a cached page.
PER_REQUEST_HEADERS = {"content-length", "date", "server-timing", "set-cookie"}
# Dropped from a 304, as werkzeug does (the body they describe is not sent).
ENTITY_HEADERS = {"content-type", "content-length"}


def generation() -> str:
    """The current cache generation, read once per request."""
    if "page_generation" not in g:
        value = cache.get(GENERATION_KEY)
        if value is None:
            value = secrets.token_hex(4)
            cache.set(GENERATION_KEY, value, timeout=0)
        g.page_generation = value
    return g.page_generation


def forget_pages() -> None:
    """Drop every cached page and menu once this transaction commits (content that
    anonymous pages show changed). Not before: a page made in between would cache the
    old content again."""
    db.session.info[FORGET_FLAG] = True


@event.listens_for(Session, "after_commit")
def _new_generation(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released (SQLAlchemy calls this then too): not committed yet
    if session.info.pop(FORGET_FLAG, False) and has_app_context():
        cache.set(GENERATION_KEY, secrets.token_hex(4), timeout=0)
        if has_request_context():
            g.pop("page_generation", None)


@event.listens_for(Session, "after_soft_rollback")
def _nothing_changed(session: Session, previous_transaction: Any) -> None:
    session.info.pop(FORGET_FLAG, None)


def cached_value(name: str, make: Callable[[], Any], timeout: int | None = None) -> Any:
    """A value (plain data, never ORM objects) kept for this cache generation."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"] if timeout is None else timeout
    if seconds <= 0:
        return make()
    key = f"value:{generation()}:{name}"
    value = cache.get(key)
    if value is None:
        value = make()
        cache.set(key, value, timeout=seconds)
    return value


class StoredPage(NamedTuple):
    """A cached page: the body and the headers it was first sent with."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str  # unquoted
    endpoint: str  # for the request metrics
    before_app: bool  # may be served before Flask: no rate limit applied to it


def page_key(generation_: str, language_code: str, environ: dict[str, Any]) -> str:
    """The cache key of a page: generation, language and the address exactly as the
    WSGI server passed it (the same on both paths). ``v2``: the ``StoredPage`` layout;
    change it when that changes, so no worker reads another layout from Redis."""
    return (f"page-v2:{generation_}:{language_code}:{environ.get('PATH_INFO', '')}?"
            f"{environ.get('QUERY_STRING', '')}")


def _client_has(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    return tags.star_tag or tags.contains_weak(etag)


class CachedPages:
    """WSGI middleware: serves a cached page before Flask for a visitor with no cookie
    and no ``Authorization`` header (see the module's docstring); anything else, or a
    page not in the cache, goes on to Flask.

    ``cacheable_paths`` holds the paths (``PATH_INFO``) a ``cached_page`` view answered
    in this process, so other addresses (static files, forms) never wait for the cache.
    ``on_served`` functions are called with ``(endpoint, method, seconds)`` for each page
    served here (the request metrics)."""

    MOST_PATHS = 100_000
    MOST_LANGUAGE_HEADERS = 1_000

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.backend = app.extensions["cache"][cache]  # the cachelib store, no app context
        self.cacheable_paths: set[str] = set()
        self.languages: dict[str, str] = {}  # Accept-Language header: language code
        self.on_served: list[Callable[[str, str, float], None]] = []

    def remember_path(self, path: str) -> None:
        if len(self.cacheable_paths) >= self.MOST_PATHS:
            self.cacheable_paths.clear()
        self.cacheable_paths.add(path)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        started = timing_start()
        stored = self._lookup(environ)
        if stored is None:
            return self.wsgi_app(environ, start_response)
        method = environ["REQUEST_METHOD"]
        unchanged = _client_has(environ.get("HTTP_IF_NONE_MATCH"), stored.etag)
        if unchanged:
            status = "304 Not Modified"
            headers = [(name, value) for name, value in stored.headers
                       if name.lower() not in ENTITY_HEADERS]
        else:
            status = "200 OK"
            headers = [*stored.headers, ("Content-Length", str(len(stored.body)))]
        if self.app.config["SERVER_TIMING"]:
            headers.append(("Server-Timing", server_timing(started, 0)))
        start_response(status, headers)
        for served in self.on_served:
            served(stored.endpoint, method, time.perf_counter() - started[0])
        return [] if unchanged or method == "HEAD" else [stored.body]

    def _lookup(self, environ: dict[str, Any]) -> StoredPage | None:
        if (environ["REQUEST_METHOD"] not in ("GET", "HEAD") or environ.get("HTTP_COOKIE")
                or "HTTP_AUTHORIZATION" in environ
                or environ.get("PATH_INFO") not in self.cacheable_paths
                or self.app.config["PAGE_CACHE_SECONDS"] <= 0
                or not self._trusted_host(environ)):
            return None
        current = self.backend.get(GENERATION_KEY)
        if current is None:
            return None
        language = self._browser_language(environ.get("HTTP_ACCEPT_LANGUAGE", ""))
        stored = self.backend.get(page_key(current, language, environ))
        return stored if stored is not None and stored.before_app else None

    def _trusted_host(self, environ: dict[str, Any]) -> bool:
        """In production only ``BASE_URL``'s host and ``TRUSTED_HOSTS`` are answered: any
        other ``Host`` goes on to Flask, which answers 400."""
        trusted = self.app.config.get("TRUSTED_HOSTS")
        if not trusted:
            return True
        try:
            get_host(environ, trusted_hosts=trusted)
        except SecurityError:
            return False
        return True

    def _browser_language(self, accept_language: str) -> str:
        code = self.languages.get(accept_language)
        if code is None:
            from feedback.core.i18n import browser_language

            with self.app.app_context():
                code = browser_language(accept_language).code
            if len(self.languages) >= self.MOST_LANGUAGE_HEADERS:
                self.languages.clear()
            self.languages[accept_language] = code
        return code


def init_page_cache(app: Flask) -> None:
    """Put ``CachedPages`` in front of the app, and keep each page a ``cached_page`` view
    made once every other ``after_request`` function has added its headers."""
    pages = CachedPages(app, app.wsgi_app)
    app.wsgi_app = pages  # type: ignore[method-assign]
    app.extensions["page_cache"] = pages
    app.after_request_funcs.setdefault(None, []).insert(0, _store_page)  # runs last


def _anonymous() -> bool:
    if "Authorization" in request.headers:  # an API token may see drafts
        return False
    if any(key not in NEUTRAL_SESSION_KEYS for key in session):
        return False
    return not current_user.is_authenticated


def _private_headers(response: Response) -> Response:
    response.cache_control.private = True
    response.cache_control.no_store = True
    response.vary.add("Cookie")
    return response


def _shared_headers(response: Response, seconds: int) -> None:
    headers = response.headers
    headers["Cache-Control"] = (f"public, max-age={seconds}, "
                                f"stale-while-revalidate={seconds}")
    headers["Vary"] = "Cookie, Accept-Language"


def _stored_response(stored: StoredPage) -> Response:
    """A cached page, or ``304 Not Modified`` when the client has it."""
    if _client_has(request.headers.get("If-None-Match"), stored.etag):
        return Response(status=304, headers=stored.headers)
    return Response(stored.body, headers=stored.headers)


def _store_page(response: Response) -> Response:
    """After every other ``after_request`` function: keep the page the ``cached_page``
    wrapper marked, with its final headers. A shared page (made or from the cache) that
    is about to set a cookie (Flask-Login marks an anonymous session not fresh, once) is
    sent private and not kept: a proxy must never pass one visitor's cookie on."""
    pending = g.pop("page_to_store", None)
    shared = g.pop("page_shared", False)
    if pending is None and not shared:
        return response
    if session.modified or "Set-Cookie" in response.headers:
        response.headers.pop("ETag", None)
        del response.headers["Cache-Control"]
        return _private_headers(response)
    if pending is None:
        return response
    key, seconds = pending
    body = response.get_data()
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    response.headers["ETag"] = f'"{etag}"'
    headers = tuple((name, value) for name, value in response.headers.to_wsgi_list()
                    if name.lower() not in PER_REQUEST_HEADERS)
    cache.set(key, StoredPage(body, headers, etag, request.endpoint or "",
                              before_app=not limiter.current_limits), timeout=seconds)
    if _client_has(request.headers.get("If-None-Match"), etag):
        response.status_code = 304  # werkzeug sends no body and no entity headers
    return response


def cached_page(timeout: Callable[..., int] | None = None, *, writes: bool = False
                ) -> Callable:
    """Cache a public GET view for anonymous visitors, per address and language.
    ``timeout(**view_args)`` may shorten the time for some pages (0: do not cache). A page
    the same for everyone only reads, so its queries run without a transaction
    (``without_transaction``), unless it says it ``writes``."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from feedback.core.i18n import visitor_language

            seconds = current_app.config["PAGE_CACHE_SECONDS"]
            if timeout is not None and seconds > 0:
                seconds = min(seconds, timeout(**kwargs))
            if request.method not in ("GET", "HEAD"):
                return view(*args, **kwargs)
            anonymous = _anonymous()
            if anonymous and not writes:
                without_transaction()
            if seconds <= 0:
                return view(*args, **kwargs)
            if not anonymous:
                return _private_headers(make_response(view(*args, **kwargs)))
            current_app.extensions["page_cache"].remember_path(request.environ["PATH_INFO"])
            # The visitor's language, as ``CachedPages`` works it out: an API's ``?lang=``
            # is in the address, so the page under a key is the same either way.
            key = page_key(generation(), visitor_language().code, request.environ)
            stored = cache.get(key)
            g.page_shared = True
            if stored is not None:
                return _stored_response(stored)
            response = make_response(view(*args, **kwargs))
            # Only a complete, shareable page: nothing personal was put in it.
            if (response.status_code != 200 or response.is_streamed
                    or "csrf_token" in g or session.modified
                    or "Set-Cookie" in response.headers):
                return response
            _shared_headers(response, seconds)
            g.page_to_store = (key, seconds)
            return response

        return wrapper

    return decorate
