"""Settings: defaults, then ``FEEDBACK_*`` environment variables, then the test override.

Every setting is declared once in ``SETTINGS`` with its default and a sentence for the
README table, which ``scripts/settings_table.py`` writes (a test checks it is current).
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedback.core.urls import trusted_hosts


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "development", "`development` or `production`. Production refuses to start "
            "without a secret key and marks cookies secure."),
    Setting("SECRET_KEY", None, "The master key: a separate key for each purpose (sessions, "
            "emailed links, ballot hashes, address hashes) is derived from it with HKDF. "
            "Generated and kept in `instance/secret_key` in development; required in "
            "production. Rotating: docs/deployment.md."),
    Setting("SESSION_SECRET_KEY", "", "Optional: the key sessions and CSRF tokens are "
            "derived from instead of `SECRET_KEY`. Change it to sign everyone out."),
    Setting("LINK_SECRET_KEY", "", "Optional: the key emailed links (unsubscribe, manage, "
            "stop following) are derived from instead of `SECRET_KEY`."),
    Setting("BALLOT_SECRET_KEY", "", "Optional: the key ballot code hashes and voter keys are "
            "derived from instead of `SECRET_KEY`. Set it to the old `SECRET_KEY` before "
            "rotating that, or unused codes stop working."),
    Setting("ADDRESS_SECRET_KEY", "", "Optional: the key for the hashes of erased addresses "
            "(suppression list, consent ledger) instead of `SECRET_KEY`. Set it to the old "
            "`SECRET_KEY` before rotating that, or suppressed addresses get mail again."),
    Setting("INSTANCE_PATH", None, "Folder for the development database, secret key and "
            "mail. Default: `instance/` in a checkout; `<venv>/var/feedback-instance` when "
            "installed from the wheel."),
    Setting("DATABASE_URL", None, "Any SQLAlchemy URL. Default: SQLite at `instance/feedback.db`. "
            "PostgreSQL: `postgresql+psycopg://user@host/db`."),
    Setting("DATABASE_PING_IDLE_SECONDS", 5, "A pooled database connection idle this long "
            "is checked before use (a restart or a firewall may have dropped it), and "
            "replaced if it no longer works; 0 checks it every time.", int),
    Setting("SERVICE_NAME", "Feedback Loop", "The service name shown in the header and emails."),
    Setting("SERVICE_LOGO_URL", "", "Optional logo image URL for the header. No NHS logo is "
            "shown by default."),
    Setting("BASE_URL", "http://127.0.0.1:5000", "Public address used in every link the site "
            "sends out (emails, feeds, QR codes, the API), never the request's `Host`. May "
            "include a path, for example `https://example.org/feedback`. In production only "
            "its host (and `TRUSTED_HOSTS`) is answered; any other `Host` gets 400."),
    Setting("TRUSTED_HOSTS", "", "Production only: other host names the site answers besides "
            "`BASE_URL`'s, comma-separated (for example a load balancer's health check "
            "address). A leading dot allows subdomains."),
    Setting("MAIL_FROM", "Feedback Loop <no-reply@feedback.localhost>", "Sender of all email."),
    Setting("SMTP_HOST", "", "SMTP server. Empty: mail is written to `instance/outbox/` as "
            "`.eml` files (development)."),
    Setting("SMTP_PORT", 587, "SMTP port.", int),
    Setting("SMTP_USERNAME", "", "SMTP user name, if the server needs authentication."),
    Setting("SMTP_PASSWORD", "", "SMTP password."),
    Setting("SMTP_SECURITY", "starttls", "`starttls`, `ssl` or `none`."),
    Setting("OUTBOX_DIR", None, "Where development mail is written. Default: `instance/outbox`."),
    Setting("SHARE_CARD_DIR", None, "Where share-card images (og:image) are kept once drawn. "
            "Default: `instance/share-cards`."),
    Setting("RATELIMIT_STORAGE_URI", "memory://", "Flask-Limiter storage. `memory://` counts "
            "in each worker process separately, so every limit is multiplied by the number "
            "of workers: production refuses to start with it when more than one web worker "
            "is configured (see `WEB_CONCURRENCY` in docs/deployment.md). Use "
            "`redis://127.0.0.1:6379/0`."),
    Setting("TRUSTED_PROXIES", 0, "How many reverse proxies or load balancers sit in front of "
            "the app. Each one's `X-Forwarded-For` and `X-Forwarded-Proto` is believed (Werkzeug "
            "`ProxyFix`), so rate limits count each visitor, not the load balancer. 0: the "
            "connecting address is the visitor. Never set it higher than the real number.",
            int),
    Setting("RATELIMIT_ENABLED", True, "Turn rate limits off (tests of other things only).",
            bool),
    Setting("SIGNIN_RATE_LIMIT", "5 per minute;20 per hour", "Limit on sign-in link requests "
            "and other forms that send email, per client address."),
    Setting("BALLOT_CODE_RATE_LIMIT", "10 per minute;60 per hour", "Limit on ballot code "
            "entry, per client address, so codes cannot be guessed."),
    Setting("API_WRITE_RATE_LIMIT", "120 per minute", "Limit on the API's writes (POST, "
            "PATCH, DELETE), per client address."),
    Setting("REPORT_RATE_LIMIT", "10 per minute;60 per day", "Limit on reports of questions "
            "and answers to the moderators, per client address."),
    Setting("MAGIC_LINK_MINUTES", 15, "How long a sign-in link works.", int),
    Setting("RETENTION_SIGN_IN_DAYS", 1, "Days after which sign-in link records (which hold "
            "the address asked for) are deleted, and the address on an expired invitation is "
            "erased. docs/privacy.md.", int),
    Setting("RETENTION_UNSUBSCRIBED_DAYS", 30, "Days after unsubscribing when a subscriber's "
            "email, name and phone are erased; the consent ledger keeps a pseudonymous "
            "record. docs/privacy.md.", int),
    Setting("DEFAULT_LANGUAGE", "en", "Language used when nothing else decides."),
    Setting("LOG_LEVEL", "INFO", "Python logging level."),
    Setting("DELIVERY_CHANNEL", "", "Bulk mail channel: `smtp`, `notify` or `outbox`. Empty: "
            "`smtp` when `SMTP_HOST` is set, else the outbox folder."),
    Setting("DELIVERY_RATE_PER_SECOND", 0, "Most messages one delivery worker sends per "
            "second (0: no limit). GOV.UK Notify allows 3,000 a minute.", int),
    Setting("DELIVERY_BATCH_SIZE", 50, "Outbox rows a worker claims at once (from each "
            "queue: digests, then follower notifications); with the 32 rounds a worker "
            "queues ahead (a message per SMTP connection each), the most duplicates a "
            "worker killed mid-batch can cause.", int),
    Setting("SMTP_CONNECTIONS", 2, "SMTP connections each delivery worker holds open and "
            "sends over at once, to hide the server's round trips. Messages go in rounds of "
            "one per connection, with up to 32 rounds queued behind the one being sent, from "
            "one batch to the next, so the connections keep sending while the worker records "
            "and claims batches.", int),
    Setting("DELIVERY_LEASE_SECONDS", 300, "After this, rows claimed by a worker that died "
            "are claimed again.", int),
    Setting("DELIVERY_MAX_ATTEMPTS", 6, "Attempts before a temporary failure becomes "
            "final.", int),
    Setting("DELIVERY_RETRY_SECONDS", 60, "First retry delay; it doubles each attempt.", int),
    Setting("DELIVERY_DB_RETRY_MAX_SECONDS", 60, "When the database cannot be reached, a "
            "delivery worker waits and tries again (1 s, doubling up to this), logging "
            "each wait, instead of exiting.", int),
    Setting("NOTIFY_API_KEY", "", "GOV.UK Notify API key (enables the `notify` channel and "
            "SMS)."),
    Setting("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk", "GOV.UK Notify "
            "API address."),
    Setting("NOTIFY_EMAIL_TEMPLATE_ID", "", "Notify email template with `((subject))` and "
            "`((body))`."),
    Setting("NOTIFY_SMS_TEMPLATE_ID", "", "Notify text message template with `((body))`."),
    Setting("NOTIFY_CALLBACK_TOKEN", "", "Bearer token Notify sends with delivery receipts."),
    Setting("NOTIFY_INBOUND_TOKEN", "", "Bearer token Notify sends with received text "
            "messages (`/subscriptions/notify/inbound`: a reply of STOP unsubscribes that number). "
            "Empty: the callback is off."),
    Setting("EDITIONS_CHECK_SECONDS", 60, "How often the scheduler looks for digests that are "
            "due and makes their editions.", int),
    Setting("RUN_SCHEDULER", True, "Run the scheduler inside `feedback run` (development "
            "only; production runs `feedback scheduler`).", bool),
    Setting("SCHEDULER_LOCK_FILE", "", "SQLite only: the lock file that keeps one scheduler. "
            "Default: next to the database."),
    Setting("METRICS_TOKEN", "", "Bearer token for Prometheus at `/metrics`. With this and "
            "`METRICS_ALLOW` both empty, `/metrics` is off (404)."),
    Setting("METRICS_ALLOW", "", "Comma-separated client addresses or networks allowed to "
            "read `/metrics` without the token, for example `127.0.0.1,10.0.0.0/8`."),
    Setting("LANGUAGES", "", "Comma-separated codes of the languages to offer, for example "
            "`en,cy,ur`. Default: every language in the registry."),
    Setting("LANGUAGES_FILE", "", "A TOML file of `[[language]]` entries (code, name, "
            "native_name, direction, provider) added to `feedback/core/languages.toml`."),
    Setting("LIBRETRANSLATE_URL", "", "LibreTranslate server, for example "
            "`http://127.0.0.1:5001`. Empty: LibreTranslate languages wait for people."),
    Setting("LIBRETRANSLATE_API_KEY", "", "LibreTranslate API key, if the server needs one."),
    Setting("DEEPL_API_KEY", "", "DeepL authentication key. Keys ending `:fx` use the free "
            "host."),
    Setting("DEEPL_API_URL", "", "DeepL host override. Default: `https://api-free.deepl.com` "
            "for free keys, `https://api.deepl.com` otherwise."),
    Setting("AZURE_TRANSLATOR_KEY", "", "Azure AI Translator key (covers Somali, Welsh, "
            "Gujarati, Tamil and Panjabi)."),
    Setting("AZURE_TRANSLATOR_REGION", "", "Azure resource region, for regional resources."),
    Setting("AZURE_TRANSLATOR_URL", "https://api.cognitive.microsofttranslator.com",
            "Azure Translator endpoint."),
    Setting("TRANSLATION_BUDGETS", "", "Monthly character budget per provider, for example "
            "`deepl=500000,azure=2000000`. Missing or 0: no limit."),
    Setting("TRANSLATION_TIMEOUT", 30, "Seconds to wait for a translation provider.", int),
    Setting("PSEUDO_LOCALE", None, "Offer the pseudo-locale `en-XA` (every interface message "
            "bracketed and accented, to find text that is not translatable) at "
            "`/language?code=en-XA`. Default: on, except in production. Never listed for "
            "readers.", bool),
    Setting("QUESTION_REPORT_THRESHOLD", 3, "Reports after which a question or answer on an "
            "update is hidden until a moderator reviews it.", int),
    Setting("CACHE_URL", "", "Cache for anonymous public pages and open rounds' results: "
            "`redis://127.0.0.1:6379/1` in production (shared by every worker). Empty: a "
            "cache in each process (development). `null`: no cache."),
    Setting("PAGE_CACHE_SECONDS", 60, "How long an anonymous public page is kept and may be "
            "served by a proxy (`Cache-Control: max-age`). Publishing, editing or withdrawing "
            "an update clears the cache. 0: pages are not cached.", int),
    Setting("RESULTS_CACHE_SECONDS", 30, "How long an open round's results are kept before "
            "they are counted again. A closed round's results are counted once and stored.",
            int),
    Setting("SERVER_TIMING", False, "Add a `Server-Timing` header (app time, CPU time, SQL "
            "statements) to every response, for the benchmarks in `bench/`.", bool),
    Setting("READING_AGE_WARNING", 11, "Editors are warned when an update summary's "
            "estimated reading age is above this.", int),
)


def _coerce(setting: Setting, raw: str) -> Any:
    if setting.kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if setting.kind is int:
        return int(raw)
    return raw


def load_settings(instance_path: Path, test_config: dict[str, Any] | None) -> dict[str, Any]:
    """Build the config mapping: defaults, then the environment, then ``test_config``."""
    values = {s.name: s.default for s in SETTINGS}
    for setting in SETTINGS:
        raw = os.environ.get(f"FEEDBACK_{setting.name}")
        if raw is not None and raw != "":
            values[setting.name] = _coerce(setting, raw)
    if test_config:
        values.update(test_config)

    production = values["ENV"] == "production"
    if values["TRUSTED_PROXIES"] < 0:
        raise RuntimeError("FEEDBACK_TRUSTED_PROXIES must be 0 or more.")
    if production:
        check_rate_limit_storage(values["RATELIMIT_STORAGE_URI"])
    if not values["SECRET_KEY"]:
        if production:
            raise RuntimeError(
                "FEEDBACK_SECRET_KEY must be set when FEEDBACK_ENV=production."
            )
        values["SECRET_KEY"] = _development_secret(instance_path)
    from feedback.core.keys import derive_keys

    values["KEYS"] = derive_keys(values)
    # Links signed with SECRET_KEY itself, before keys were derived, still verify.
    values["LEGACY_LINK_KEY"] = "" if values["LINK_SECRET_KEY"] else values["SECRET_KEY"]
    values["SECRET_KEY"] = values["KEYS"]["session"].hex()  # Flask: sessions and CSRF
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance_path / 'feedback.db'}"
    if values["PSEUDO_LOCALE"] is None:
        values["PSEUDO_LOCALE"] = not production
    if not values["OUTBOX_DIR"]:
        values["OUTBOX_DIR"] = str(instance_path / "outbox")
    if not values["SHARE_CARD_DIR"]:
        values["SHARE_CARD_DIR"] = str(instance_path / "share-cards")

    values.update(
        SQLALCHEMY_DATABASE_URI=values["DATABASE_URL"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=production,
        PREFERRED_URL_SCHEME="https" if production else "http",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,
        RATELIMIT_STORAGE_URI=values["RATELIMIT_STORAGE_URI"],
        RATELIMIT_ENABLED=values["RATELIMIT_ENABLED"],
        RATELIMIT_HEADERS_ENABLED=True,
        BABEL_DEFAULT_LOCALE=values["DEFAULT_LANGUAGE"],
        **_cache_settings(values["CACHE_URL"]),
    )
    if test_config:  # the override also wins over the derived Flask keys
        values.update(test_config)
    # Flask refuses (400) a Host outside this list; None (development) accepts any.
    values["TRUSTED_HOSTS"] = trusted_hosts(values) if production else None
    return values


def configured_web_workers(environ: Mapping[str, str] | None = None,
                           argv: Sequence[str] | None = None) -> int:
    """How many web worker processes this server is configured to run, as far as can be
    told from here: gunicorn's ``WEB_CONCURRENCY`` (its default for ``--workers``),
    ``--workers``/``-w`` in ``GUNICORN_CMD_ARGS``, and the gunicorn command line this
    process was started with. A ``workers =`` line in a gunicorn config file is not
    read: set ``WEB_CONCURRENCY`` as well (docs/deployment.md)."""
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    counts = [1]
    if str(environ.get("WEB_CONCURRENCY", "")).strip().isdigit():
        counts.append(int(environ["WEB_CONCURRENCY"]))
    sources = [shlex.split(environ.get("GUNICORN_CMD_ARGS", ""))]
    if argv and "gunicorn" in Path(str(argv[0])).name:
        sources.append(list(argv[1:]))
    for args in sources:
        for index, arg in enumerate(args):
            value = None
            if arg in ("-w", "--workers") and index + 1 < len(args):
                value = args[index + 1]
            elif arg.startswith("--workers="):
                value = arg.partition("=")[2]
            elif arg.startswith("-w") and arg[2:].isdigit():
                value = arg[2:]
            if value and value.isdigit():
                counts.append(int(value))
    return max(counts)


def check_rate_limit_storage(uri: str, environ: Mapping[str, str] | None = None,
                             argv: Sequence[str] | None = None) -> None:
    """Production: in-memory rate limits with more than one worker would let each worker
    allow the full limit, so refuse to start."""
    workers = configured_web_workers(environ, argv)
    if uri.startswith("memory://") and workers > 1:
        raise RuntimeError(
            f"FEEDBACK_RATELIMIT_STORAGE_URI is memory:// but {workers} web workers are "
            "configured: each worker would count separately and allow the full limit. Set "
            "FEEDBACK_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (shared storage).")
def _cache_settings(url: str) -> dict[str, Any]:
    """Flask-Caching's settings for ``FEEDBACK_CACHE_URL``."""
    if url == "null":
        return {"CACHE_TYPE": "NullCache"}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                "CACHE_KEY_PREFIX": "feedback:"}
    return {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}


def _development_secret(instance_path: Path) -> str:
    """A random key kept in the instance folder, so development sessions survive restarts."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
