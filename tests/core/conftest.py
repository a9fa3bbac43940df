"""Fixtures borrowed from the domain tests (for the cross-cutting link tests)."""

from tests.digest_support import smtp_sink  # noqa: F401
from tests.priorities.conftest import make_round, organiser, partner, partner_staff  # noqa: F401
from tests.updates.conftest import (  # noqa: F401
    dataset,
    editor,
    make_update,
    service,
    trust,
)
