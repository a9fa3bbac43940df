"""Whole-page caching for people who are not signed in (Flask-Caching).

An anonymous visitor's page depends only on its address and language, so it is kept in
the cache (Redis in production, ``FEEDBACK_CACHE_URL``) for ``FEEDBACK_PAGE_CACHE_SECONDS``
and sent with an ``ETag`` and ``Cache-Control: public`` so a CDN or reverse proxy can
serve it too. Signed-in people, and anyone with something waiting in their session (a
flash message, a form), always get a freshly made page marked ``private, no-store``.

Publishing, editing or withdrawing an update calls ``forget_pages()``: it moves the cache
to a new generation, so every cached page is dropped at once without scanning keys.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from flask import (
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

from feedback.extensions import cache, db

GENERATION_KEY = "page-generation"
FORGET_FLAG = "forget_pages"
# Session keys that do not change what an anonymous page shows (the language is in the
# cache key; a CSRF token is only used by forms, and cached pages have none).
NEUTRAL_SESSION_KEYS = {"language", "csrf_token", "_fresh", "_permanent"}


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


def _stored_response(stored: tuple[bytes, str, str], seconds: int) -> Response:
    """A cached page, or ``304 Not Modified`` when the client has it. The headers are
    written out as text: served from the cache, they are most of the work left."""
    body, mimetype, etag = stored
    quoted = f'"{etag}"'
    unchanged = request.if_none_match
    if unchanged and (unchanged.star_tag or unchanged.contains_weak(etag)):
        response = Response(status=304)
    else:
        response = Response(body, mimetype=mimetype)
    headers = response.headers
    headers["ETag"] = quoted
    headers["Cache-Control"] = (f"public, max-age={seconds}, "
                                f"stale-while-revalidate={seconds}")
    headers["Vary"] = "Cookie, Accept-Language"
    return response


def cached_page(timeout: Callable[..., int] | None = None) -> Callable:
    """Cache a public GET view for anonymous visitors, per address and language.
    ``timeout(**view_args)`` may shorten the time for some pages (0: do not cache)."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from feedback.core.i18n import current_language

            seconds = current_app.config["PAGE_CACHE_SECONDS"]
            if timeout is not None and seconds > 0:
                seconds = min(seconds, timeout(**kwargs))
            if seconds <= 0 or request.method not in ("GET", "HEAD"):
                return view(*args, **kwargs)
            if not _anonymous():
                return _private_headers(make_response(view(*args, **kwargs)))
            key = (f"page:{generation()}:{current_language().code}:"
                   f"{request.path}?{request.query_string.decode('latin-1')}")
            stored = cache.get(key)
            if stored is None:
                response = make_response(view(*args, **kwargs))
                # Only a complete, shareable page: nothing personal was put in it.
                if (response.status_code != 200 or response.is_streamed
                        or "csrf_token" in g or session.modified
                        or "Set-Cookie" in response.headers):
                    return response
                body = response.get_data()
                stored = (body, response.mimetype, hashlib.blake2b(body, digest_size=12)
                          .hexdigest())
                cache.set(key, stored, timeout=seconds)
            return _stored_response(stored, seconds)

        return wrapper

    return decorate
