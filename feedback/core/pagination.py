"""Pagination without COUNT(*): fetch one row more than the page to know if there is a next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from feedback.extensions import db

MAX_PER_PAGE = 100


@dataclass
class Page:
    items: Sequence[Any]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def paginate(statement: Select, page: int = 1, per_page: int = 20) -> Page:
    """Run ``statement`` for one page. ``page`` starts at 1; bad values are clamped."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    rows = db.session.scalars(
        statement.limit(per_page + 1).offset((page - 1) * per_page)
    ).all()
    return Page(items=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page)
