"""Column helpers shared by every domain's models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator

# A column whose name says it could hold a person's email, phone or name declares in
# ``info`` whether it does and, if so, when it is erased (tests/test_personal_data.py).
NOT_PERSONAL: dict = {"personal": False}  # an organisation's or a thing's name


def personal(erased: str) -> dict:
    """``info`` for a column holding personal data: ``erased`` says when it goes."""
    return {"personal": erased}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use timezone-aware UTC")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
