"""Pages that belong to no one domain: home, health check, language choice, statements."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session
from sqlalchemy import text

from feedback.core.caching import cached_page
from feedback.core.i18n import SESSION_KEY
from feedback.core.languages import enabled_languages, get_language
from feedback.core.redirects import safe_next
from feedback.extensions import db
from feedback.organisations import services as organisations
from feedback.updates import services as updates

# Named "core" as before, so the endpoints (core.home, core.healthz...) stay the same.
bp = Blueprint("core", __name__)

# The axe-core version the browser tests run (package.json); the accessibility statement
# names it, and a test keeps the two the same.
AXE_CORE_VERSION = "4.14.1"


@bp.get("/")
@cached_page()
def home():
    return render_template("core/home.html",
                           organisations=organisations.list_organisations(),
                           latest_updates=updates.list_published_updates(per_page=6,
                                                                          topics=False).items)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any failure means unhealthy
        db.session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify({"status": "ok" if status == 200 else "error", "database": database}), status


@bp.get("/language")
def choose_language():
    """The language picker: /language?code=ur&next=/updates"""
    language = get_language(request.args.get("code"))
    next_url = safe_next(request.args.get("next"), "/")
    if language is None:
        return render_template("core/languages.html", languages=enabled_languages(),
                               next_url=next_url)
    session[SESSION_KEY] = language.code
    return redirect(next_url)


@bp.get("/accessibility")
def accessibility():
    return render_template("core/accessibility.html", axe_version=AXE_CORE_VERSION)


@bp.get("/privacy")
def privacy():
    from flask import current_app

    return render_template("core/privacy.html",
                           sign_in_days=current_app.config["RETENTION_SIGN_IN_DAYS"],
                           unsubscribed_days=current_app.config["RETENTION_UNSUBSCRIBED_DAYS"])
