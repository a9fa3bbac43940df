"""Shared by the priority-round services: ballot-code and voter keys, and the
messages people see when a ballot cannot be taken."""

from __future__ import annotations

import re
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from feedback.core.keys import keyed_hash

RESULTS_CACHE_KEY = "priority-results:{round_id}"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I, which people misread
CODE_LENGTH = 12
MAX_BATCH = 500

# The clear messages people see when a ballot cannot be taken.
# Lazy, so each is translated when it is shown, in the reader's language.
CODE_USED_MESSAGE = _l("This ballot code has already been used to vote. Each code works "
                       "only once. If you did not use it, ask the organisation that gave you "
                       "the code for a new one.")
CODE_UNKNOWN_MESSAGE = _l("We do not recognise that ballot code. Check it against your code "
                          "sheet: it has 12 letters and numbers, like ABCD-EFGH-JK23.")


def _(text: str, **values: Any) -> str:
    """Translate when there is a request to take the language from; jobs, the CLI and the
    demo seed get English."""
    if has_request_context():
        return gettext(text, **values)
    return text % values if values else text


# Identity and keys -------------------------------------------------------------------

def _hmac(message: str) -> str:
    return keyed_hash("ballots", message)


def voter_key(round_id: int, identity: str) -> str:
    """The keyed hash that stands for one person in one round. ``identity`` is
    ``user:<id>`` for an account or ``code:<code hash>`` for a ballot code, so a person
    gets the same key whichever way their ballot arrives (a paper ballot carrying a code
    gets the code's key). Keys differ between rounds, so they cannot be linked."""
    return _hmac(f"ballot|{round_id}|{identity}")


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", (code or "")).upper()


def hash_code(code: str) -> str:
    """Codes are short enough to guess offline, so they are hashed with the secret key."""
    return _hmac(f"code|{normalise_code(code)}")


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
