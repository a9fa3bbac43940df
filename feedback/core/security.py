"""Security headers on every response. No inline script is ever allowed."""

from __future__ import annotations

from flask import Flask, Response, current_app, g

DEFAULT_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def relax_csp(**directives: str) -> None:
    """Let one response change a directive (for example ``frame_ancestors="*"`` for an
    embeddable widget). Underscores stand for dashes."""
    overrides = g.setdefault("csp_overrides", {})
    for name, value in directives.items():
        overrides[name.replace("_", "-")] = value


def _policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


DEFAULT_CSP_HEADER = _policy(DEFAULT_CSP)  # most responses: worked out once


def content_security_policy() -> str:
    overrides = g.get("csp_overrides")
    if not overrides:
        return DEFAULT_CSP_HEADER
    return _policy({**DEFAULT_CSP, **overrides})


def set_security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy()
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if "frame-ancestors" not in g.get("csp_overrides", {}):
        response.headers["X-Frame-Options"] = "DENY"
    if current_app.config["ENV"] == "production":
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store" if g.get("user_known") else
                                    "no-cache")
    return response


def init_security(app: Flask) -> None:
    app.after_request(set_security_headers)


def email_rate_limit() -> str:
    """The Flask-Limiter limit for sign-in and every other form that sends email."""
    return current_app.config["SIGNIN_RATE_LIMIT"]


def report_rate_limit() -> str:
    """The Flask-Limiter limit for reporting content to the moderators."""
    return current_app.config["REPORT_RATE_LIMIT"]
