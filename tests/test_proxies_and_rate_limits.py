"""Rate limits count visitors, not the load balancer, and are shared between workers
(issue 13, item 5).

The Redis test needs the server at 127.0.0.1:6379. It is skipped when Redis is down,
except in CI (``CI=true``) or with ``FEEDBACK_REQUIRE_REDIS=1``, where it fails."""

from __future__ import annotations

import os
import uuid

import pytest

from feedback.config import check_rate_limit_storage, configured_web_workers, load_settings

PROXY = "10.0.0.5"  # the load balancer every request comes through


def _sign_in_statuses(client, visitor: str, times: int, **headers) -> list[int]:
    headers = {"X-Forwarded-For": visitor, **headers}
    return [client.post("/sign-in", data={"email": f"someone{n}@example.org"},
                        headers=headers, environ_base={"REMOTE_ADDR": PROXY}).status_code
            for n in range(times)]


def test_two_visitors_behind_one_proxy_each_get_their_own_bucket(make_app):
    app = make_app(RATELIMIT_ENABLED=True, SIGNIN_RATE_LIMIT="2 per minute",
                   TRUSTED_PROXIES=1)
    with app.app_context():
        client = app.test_client()
        assert _sign_in_statuses(client, "203.0.113.7", 3) == [302, 302, 429]
        # Another visitor through the same load balancer is not locked out.
        assert _sign_in_statuses(client, "198.51.100.23", 2) == [302, 302]
        # A visitor cannot pose as someone else: only the proxy's own entry is believed.
        assert _sign_in_statuses(client, "198.51.100.99, 203.0.113.7", 1) == [429]


def test_without_trusted_proxies_the_proxy_address_is_the_visitor(make_app):
    """The default (0) ignores X-Forwarded-For, which anyone can send."""
    app = make_app(RATELIMIT_ENABLED=True, SIGNIN_RATE_LIMIT="2 per minute")
    with app.app_context():
        client = app.test_client()
        assert _sign_in_statuses(client, "203.0.113.7", 2) == [302, 302]
        assert _sign_in_statuses(client, "198.51.100.23", 1) == [429]


@pytest.mark.parametrize(("environ", "argv", "workers"), [
    ({}, ["python"], 1),
    ({"WEB_CONCURRENCY": "4"}, ["python"], 4),
    ({"GUNICORN_CMD_ARGS": "--bind 0.0.0.0:8000 --workers 3"}, ["python"], 3),
    ({"GUNICORN_CMD_ARGS": "-w2"}, ["python"], 2),
    ({}, ["/srv/.venv/bin/gunicorn", "-w", "5", "wsgi:app"], 5),
    ({}, ["/srv/.venv/bin/gunicorn", "--workers=6", "wsgi:app"], 6),
    ({}, ["/srv/.venv/bin/feedback", "-w", "5"], 1),  # not gunicorn: its -w means nothing
])
def test_the_number_of_web_workers_is_read_from_gunicorns_settings(environ, argv, workers):
    assert configured_web_workers(environ, argv) == workers


def test_production_refuses_in_memory_limits_with_more_than_one_worker(monkeypatch, tmp_path):
    monkeypatch.setenv("FEEDBACK_ENV", "production")
    monkeypatch.setenv("FEEDBACK_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    monkeypatch.delenv("FEEDBACK_RATELIMIT_STORAGE_URI", raising=False)
    with pytest.raises(RuntimeError, match="4 web workers"):
        load_settings(tmp_path, None)
    monkeypatch.setenv("FEEDBACK_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    assert load_settings(tmp_path, None)["RATELIMIT_STORAGE_URI"].startswith("redis://")
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    monkeypatch.setenv("FEEDBACK_RATELIMIT_STORAGE_URI", "memory://")
    load_settings(tmp_path, None)  # one worker: memory is exact
    check_rate_limit_storage("memory://", {}, ["python"])


def test_development_allows_in_memory_limits_whatever_the_workers(monkeypatch, tmp_path):
    monkeypatch.delenv("FEEDBACK_ENV", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert load_settings(tmp_path, None)["RATELIMIT_STORAGE_URI"] == "memory://"


# Redis -------------------------------------------------------------------------------

REDIS_URL = os.environ.get("FEEDBACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_required() -> bool:
    return (os.environ.get("CI", "").lower() in {"1", "true", "yes"}
            or os.environ.get("FEEDBACK_REQUIRE_REDIS", "") == "1")


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        if _redis_required():
            pytest.fail(f"Redis at {REDIS_URL} is required here (CI or "
                        f"FEEDBACK_REQUIRE_REDIS=1) but unreachable: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {error}")
    yield client
    client.close()


def test_limits_are_counted_in_redis_so_every_worker_shares_them(make_app, redis_client):
    # A visitor address no other run uses (2001:db8::/32 is for documentation). The keys
    # are found by it, not by a key prefix: Flask-Limiter's one limiter per process keeps
    # the first app's RATELIMIT_KEY_PREFIX, so a prefix set here may not be the one used.
    visitor = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    app = make_app(RATELIMIT_ENABLED=True, SIGNIN_RATE_LIMIT="3 per minute",
                   RATELIMIT_STORAGE_URI=REDIS_URL, TRUSTED_PROXIES=1)

    def visitor_keys() -> list[bytes]:
        return list(redis_client.scan_iter(match=f"*{visitor}*"))

    try:
        with app.app_context():
            client = app.test_client()
            assert _sign_in_statuses(client, visitor, 1) == [302]
            keys = visitor_keys()
            assert len(keys) == 1, keys  # counted in Redis, for this visitor
            assert int(redis_client.get(keys[0])) == 1
            # Another worker (another process) counts two more hits in the same place...
            redis_client.incrby(keys[0], 2)
            # ...and this worker sees them: the visitor is at the limit everywhere.
            assert _sign_in_statuses(client, visitor, 1) == [429]
    finally:
        for key in visitor_keys():
            redis_client.delete(key)


@pytest.mark.once  # about Redis and pytest, whichever database the suite uses
def test_ci_fails_rather_than_skips_when_redis_is_down(tmp_path):
    """What .ci/run relies on: with FEEDBACK_REQUIRE_REDIS=1 an unreachable Redis is a
    failure, not a skip."""
    import subprocess
    import sys

    env = {**os.environ, "FEEDBACK_REQUIRE_REDIS": "1",
           "FEEDBACK_TEST_REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "-n", "0", f"{__file__}::test_limits_are_counted_in_redis_so_every_worker_shares_them"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout or "1 error" in result.stdout, result.stdout
