"""The one rule for honouring a ``next`` address: a path on this site, or nothing.

Browsers drop tabs and newlines from URLs and treat a backslash like a slash, so
``/\\t/evil.example`` and ``/\\evil.example`` both leave the site although they start with
one ``/``. So control characters are stripped first (as the browser would), and what is
left must be a path with no scheme, no host and no leading ``//`` or ``/\\``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_LENGTH = 300  # the longest ``next`` kept (sign-in links store it)


def safe_next(target: str | None, default: str | None = None) -> str | None:
    """``target`` if it is a path on this site, else ``default``."""
    if not target:
        return default
    cleaned = _CONTROLS.sub("", target).strip()
    if (not cleaned.startswith("/") or cleaned.startswith(("//", "/\\"))
            or "\\" in cleaned or len(cleaned) > MAX_LENGTH):
        return default
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return cleaned
