"""The queues a delivery worker sends, and how a domain registers one.

Each queue lives with its domain (``feedback.digests.sending``,
``feedback.notifications.sending``, ``feedback.subscriptions.sending``) and is registered
by the app factory, in the order the worker visits them. ``feedback.delivery`` knows
only this protocol: what to claim, whether a row is still wanted, how to render it, and
whom a permanent failure stops. So it depends on nothing above it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from sqlalchemy import ColumnElement, Row, Select

from feedback.delivery.channels import Outgoing
from feedback.delivery.models import Queued

if TYPE_CHECKING:
    from feedback.delivery.services import Worker

EXTENSION = "feedback.delivery.queues"


class Queue:
    """One table of outbox rows that the worker sends. A subclass says which rows may be
    claimed, loads a claimed batch (rows with ``id``, ``attempts`` and ``email``), checks
    which are still wanted as soon as they are claimed (the whole batch in one query),
    renders each one still wanted (so rendering may have side effects), and says whom a
    permanent failure stops (``permanent_failure`` for a send the provider refused,
    ``receipt_failure`` for a delivery receipt)."""

    model: type[Queued]
    # GOV.UK Notify receipts name a row by this prefix and its id ("" for digests).
    reference_prefix: str = ""

    def __init__(self, worker: Worker):
        self.worker = worker

    @staticmethod
    def claimable(statement: Select) -> Select:
        return statement

    @classmethod
    def claim_scopes(cls) -> Sequence[ColumnElement[bool] | None]:
        """The parts of the queue a claim takes rows from, in turn (None: all of it)."""
        return [None]

    def claimed(self, token: str) -> Sequence[Row]:
        raise NotImplementedError

    def still_wanted(self, rows: Sequence[Row]) -> set[int]:
        """The ids of ``rows`` that should still go: one query for the whole batch, run
        just after it is claimed and before any of it is rendered and sent."""
        raise NotImplementedError

    def outgoing(self, row: Row) -> Outgoing:
        raise NotImplementedError

    def permanent_failure(self, row: Row, reason: str) -> None:
        """The provider refused ``row`` for good: stop its address on its channel."""
        raise NotImplementedError

    @classmethod
    def receipt_failure(cls, record: Any, reason: str) -> None:
        """A delivery receipt said ``record`` (a ``model`` instance) failed for good."""
        raise NotImplementedError

    def finish(self, rows: Sequence[Row]) -> None:
        """After each batch, in its transaction."""


def register(app: Flask, queue: type[Queue]) -> None:
    """Add ``queue`` to the ones this app's delivery workers send (once)."""
    registered_queues = app.extensions.setdefault(EXTENSION, [])
    if queue not in registered_queues:
        registered_queues.append(queue)


def registered(app: Flask | None = None) -> list[type[Queue]]:
    return list((app or current_app).extensions.get(EXTENSION, []))


def for_reference(reference: str) -> tuple[type[Queue], str] | None:
    """The queue a delivery receipt's reference belongs to, and the row id part."""
    matching = [queue for queue in registered() if reference.startswith(queue.reference_prefix)]
    if not matching:
        return None
    queue = max(matching, key=lambda q: len(q.reference_prefix))
    return queue, reference.removeprefix(queue.reference_prefix)


def domain(url: str) -> str:
    return (urlsplit(url).hostname or "localhost").lower()


def https(url: str) -> str:
    """List-Unsubscribe must be https (RFC 8058)."""
    return "https://" + url.split("://", 1)[1] if url.startswith("http://") else url
