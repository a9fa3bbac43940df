"""Domain exceptions: what a service says when it cannot do what was asked.

Services raise these and never answer in HTTP terms. Each caller translates them: the web
layer into 404/403/400 pages (JSON under ``/api/``; see :mod:`feedback.core.errors`), the
CLI into a message and a non-zero exit, jobs into a logged failure."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A service refused. ``message`` may be a ``lazy_gettext`` string: it is translated
    when read, so each response gets its reader's language."""

    def __init__(self, message: Any = None):
        super().__init__(*(() if message is None else (message,)))
        self._message = message

    @property
    def message(self) -> str:
        return "" if self._message is None else str(self._message)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """There is no such thing, or the person may not know that it exists."""


class Forbidden(DomainError):
    """The person may not do this."""


class ValidationError(DomainError, ValueError):
    """Input that breaks a rule. ``field`` names the form field when there is one."""

    def __init__(self, message: Any, field: str | None = None):
        super().__init__(message)
        self.field = field


def found(value: T | None) -> T:
    """``value``, or :class:`NotFound` when it is None: ``found(db.session.get(...))``."""
    if value is None:
        raise NotFound
    return value
