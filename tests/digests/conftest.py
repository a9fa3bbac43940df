from tests.digest_support import notify_api, smtp_sink  # noqa: F401
