"""Static files: a stylesheet or script the pages link to carries a hash of its content
in its address (``?v=…``), so browsers keep it for a year and never ask again; a new
release links to a new address. Files reached only from inside those (fonts, images, the
NHS.UK script a module imports) are kept for an hour."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, current_app, has_request_context, request

VERSIONED_MAX_AGE = 365 * 24 * 3600
UNVERSIONED_MAX_AGE = 3600


def static_version(filename: str) -> str:
    """A short hash of a static file's content, for its address."""
    path = Path(current_app.static_folder or "") / filename
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=5).hexdigest()
    except OSError:
        return "0"  # a missing file answers 404 whatever its address


class FeedbackFlask(Flask):
    """Flask, with the static files' cache lifetime chosen by their address."""

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        if self.debug:
            return None  # while developing: always ask whether a file changed
        if has_request_context() and "v" in request.args:
            return VERSIONED_MAX_AGE
        return UNVERSIONED_MAX_AGE
