from tests.digest_support import _postgres_only, notify_api, smtp_sink  # noqa: F401
