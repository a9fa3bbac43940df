"""Random single-use tokens. Only their SHA-256 is ever stored."""

from __future__ import annotations

import hashlib
import secrets


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A URL-safe token with 256 bits of randomness, and its hash."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)
