"""One key per purpose, derived from ``SECRET_KEY`` with HKDF (RFC 5869, SHA-256).

``SECRET_KEY`` is the master. Each purpose gets its own key, so each can be rotated alone
by setting its override (the override is itself put through HKDF with the purpose):

- ``session``: session cookies and CSRF tokens (Flask's ``SECRET_KEY``);
  ``SESSION_SECRET_KEY``. Rotating it signs everyone out.
- ``links``: signed links in emails (manage and unsubscribe links, one-click stop
  following); ``LINK_SECRET_KEY``. Rotating it breaks those links in emails already sent.
- ``ballots``: the keyed hashes of ballot codes and voter keys; ``BALLOT_SECRET_KEY``.
  Rotating it voids unused codes and lets people vote again in an open round.
- ``addresses``: keyed hashes of email addresses and phone numbers kept after the address
  itself is erased (the suppression list, the consent ledger); ``ADDRESS_SECRET_KEY``.
  Rotating it empties the suppression list in effect.

docs/deployment.md says how to rotate each.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from flask import current_app

PURPOSES: dict[str, str] = {
    "session": "SESSION_SECRET_KEY",
    "links": "LINK_SECRET_KEY",
    "ballots": "BALLOT_SECRET_KEY",
    "addresses": "ADDRESS_SECRET_KEY",
}
_SALT = b"feedback-loop per-purpose keys v1"


def hkdf_sha256(key_material: bytes, info: bytes, salt: bytes = b"", length: int = 32) -> bytes:
    """HKDF-Extract then HKDF-Expand (RFC 5869) with HMAC-SHA256."""
    prk = hmac.new(salt or bytes(32), key_material, hashlib.sha256).digest()
    output, block, counter = b"", b"", 1
    while len(output) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
        counter += 1
    return output[:length]


def derive_keys(settings: Mapping[str, Any]) -> dict[str, bytes]:
    """Every purpose's key: from its override setting if set, else from ``SECRET_KEY``."""
    keys = {}
    for purpose, override in PURPOSES.items():
        material = settings.get(override) or settings["SECRET_KEY"]
        keys[purpose] = hkdf_sha256(str(material).encode("utf-8"),
                                    f"feedback-loop {purpose}".encode(), _SALT)
    return keys


def key_for(purpose: str) -> bytes:
    """The current app's key for ``purpose`` (one of ``PURPOSES``)."""
    return current_app.config["KEYS"][purpose]


def keyed_hash(purpose: str, message: str) -> str:
    """HMAC-SHA256 of ``message`` with the purpose's key, as 64 hex characters."""
    return hmac.new(key_for(purpose), message.encode("utf-8"), hashlib.sha256).hexdigest()


def link_signing_keys() -> list[bytes | str]:
    """Keys for itsdangerous serializers of emailed links, the signing key last. Links
    signed before keys were derived per purpose (with ``SECRET_KEY`` itself) still verify
    unless ``LINK_SECRET_KEY`` is set, so unsubscribe links in old emails keep working."""
    keys: list[bytes | str] = []
    legacy = current_app.config.get("LEGACY_LINK_KEY")
    if legacy:
        keys.append(legacy)
    keys.append(key_for("links"))
    return keys
