"""One unit of work per scheduled job: commit when it returns, roll back when it raises."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from feedback.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def job(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a job (in a domain's ``tasks.py``) so that its work is committed when it
    returns, and rolled back and re-raised when it fails. The job itself only flushes;
    the scheduler logs the failure."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = function(*args, **kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        return result

    return run
