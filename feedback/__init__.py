"""Feedback Loop: NHS organisations tell communities what their patient data led to."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader

from feedback.config import load_settings
from feedback.core.assets import FeedbackFlask

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def resource_dir(name: str) -> Path:
    """``templates`` or ``migrations``: the copy inside an installed wheel, else the
    top-level folder of a checkout (the source, see setup.py)."""
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else PROJECT_ROOT / name


def instance_dir() -> str | None:
    """``FEEDBACK_INSTANCE_PATH``; else ``instance/`` in a checkout; else Flask's default
    for an installed package (``<venv>/var/feedback-instance``)."""
    if os.environ.get("FEEDBACK_INSTANCE_PATH"):
        return os.environ["FEEDBACK_INSTANCE_PATH"]
    if (PACKAGE_DIR / "templates").is_dir():
        return None
    return str(PROJECT_ROOT / "instance")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web application: defaults, then ``FEEDBACK_*`` variables, then
    ``test_config``."""
    app = FeedbackFlask(
        __name__,
        instance_path=instance_dir(),
        template_folder=str(resource_dir("templates")),
        static_folder="static",
    )
    app.config.from_mapping(load_settings(Path(app.instance_path), test_config))
    logging.basicConfig(level=app.config["LOG_LEVEL"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    configure_proxies(app)
    configure_templates(app)
    configure_extensions(app)
    configure_routing(app)
    register_blueprints(app)
    register_delivery_queues(app)
    configure_requests(app)
    register_commands(app)
    from feedback.scheduler import maybe_start_in_dev_server

    maybe_start_in_dev_server(app)
    return app


def configure_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take the visitor's address and scheme
    from the headers they add (the rate limits key on the address)."""
    trusted = app.config["TRUSTED_PROXIES"]
    if trusted:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted,
                                x_host=0, x_port=0, x_prefix=0)


def autoescape_unless_plain_text(template_name: str | None) -> bool:
    """Escape HTML everywhere (the NHS.UK macros too) except plain-text email bodies,
    where "&" must stay "&"."""
    return not (template_name or "").endswith(".txt")


def configure_templates(app: Flask) -> None:
    # nhsuk-frontend-jinja's macros need ChainableUndefined and their own package loader.
    app.jinja_options = {
        "undefined": ChainableUndefined,
        "loader": ChoiceLoader([
            FileSystemLoader(app.template_folder),
            PackageLoader("nhsuk_frontend_jinja"),
        ]),
        "autoescape": autoescape_unless_plain_text,
        "extensions": ["jinja2.ext.i18n"],
    }
    from feedback.core import templating

    templating.init_templates(app)


def configure_extensions(app: Flask) -> None:
    from feedback.accounts.session import init_login
    from feedback.core import database
    from feedback.core.i18n import install_template_gettext, select_locale
    from feedback.extensions import babel, cache, csrf, db, limiter, migrate

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    if app.config["PSEUDO_LOCALE"]:
        from feedback.core.pseudo import register_babel_locale

        register_babel_locale()
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(PACKAGE_DIR / "translations"))
    install_template_gettext(app)
    limiter.init_app(app)
    cache.init_app(app)
    init_login(app)


def configure_routing(app: Flask) -> None:
    """Route ids are 1..2**31-1 (``feedback.core.ids``); before any rule is added."""
    from feedback.core import ids

    ids.init_app(app)


def register_blueprints(app: Flask) -> None:
    from feedback.accountability.views import bp as accountability_bp
    from feedback.accounts.views import bp as accounts_bp
    from feedback.admin.views import bp as admin_bp
    from feedback.api.views import bp as api_bp
    from feedback.delivery.views import bp as delivery_bp
    from feedback.digests.views import bp as digests_bp
    from feedback.metrics.views import bp as metrics_bp
    from feedback.organisations.views import bp as organisations_bp
    from feedback.pages.views import bp as core_bp
    from feedback.priorities.api import bp as priorities_api_bp
    from feedback.priorities.views import bp as priorities_bp
    from feedback.subscriptions.views import bp as subscriptions_bp
    from feedback.updates.views import bp as updates_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(organisations_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(priorities_bp)
    app.register_blueprint(priorities_api_bp)
    app.register_blueprint(subscriptions_bp)
    app.register_blueprint(digests_bp)
    app.register_blueprint(delivery_bp)
    app.register_blueprint(updates_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(accountability_bp)
    app.register_blueprint(metrics_bp)

    from feedback import translation

    translation.init_app(app)

    from flask_babel import lazy_gettext as _l

    from feedback.core.templating import add_nav_item

    add_nav_item(app, "updates.list_updates", _l("Updates"))
    add_nav_item(app, "organisations.organisations", _l("Organisations"))
    add_nav_item(app, "organisations.datasets", _l("Datasets"))
    add_nav_item(app, "organisations.service_list", _l("Services"))
    add_nav_item(app, "priorities.rounds", _l("Research priorities"))
    add_nav_item(app, "accountability.platform", _l("Closing the loop"))
    add_nav_item(app, "subscriptions.subscribe", _l("Get updates by email"))


def register_delivery_queues(app: Flask) -> None:
    """The outbox queues the delivery workers send, each from its own domain, in the
    order a worker visits them."""
    from feedback.delivery import queues
    from feedback.digests.sending import DigestQueue
    from feedback.notifications.sending import NotificationQueue
    from feedback.subscriptions.sending import ConfirmationQueue

    for queue in (DigestQueue, NotificationQueue, ConfirmationQueue):
        queues.register(app, queue)


def configure_requests(app: Flask) -> None:
    from feedback.core.caching import init_page_cache
    from feedback.core.errors import register_error_handlers
    from feedback.core.inputs import check_request_text
    from feedback.core.security import init_security

    @app.before_request
    def reject_bad_text() -> None:
        from flask import request

        check_request_text(request)

    init_security(app)
    register_error_handlers(app)
    init_page_cache(app)  # the metrics count the pages it serves before Flask
    from feedback.metrics.services import enabled, init_request_timing

    if enabled(app):
        init_request_timing(app)
    from feedback.core.timing import init_timing

    init_timing(app)


def register_commands(app: Flask) -> None:
    from feedback.cli import register

    register(app)
