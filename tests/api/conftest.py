"""API fixtures: the trust, its catalogue and a live token come from the updates
fixtures."""

from __future__ import annotations

from tests.updates.conftest import (  # noqa: F401 - shared fixtures
    auth,
    dataset,
    editor,
    make_update,
    service,
    sign_in_as,
    token,
    trust,
)
