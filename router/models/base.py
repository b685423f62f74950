"""Declarative base, naming convention and portable column types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


# What SQLAlchemy's SQLite DATETIME stores (sortable text, microseconds always written).
_SQLITE_FORMAT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # An inbound batch binds and reads thousands of these. On SQLite each went through three
    # layers (this class, SQLAlchemy's DATETIME text format, its regex parse): one function
    # each way instead, writing the same text SQLAlchemy writes. On PostgreSQL a UTC value
    # passes straight through.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            layered = super().bind_processor(dialect)
            if self.impl_instance.dialect_impl(dialect).bind_processor(dialect) is not None:
                return layered  # a driver that converts datetimes itself: keep its step
            # asyncpg takes aware datetimes as they are: UTC ones need no call at all.
            return lambda value: (value if value is None or value.tzinfo is UTC
                                  else self.process_bind_param(value, dialect))

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not UTC:
                value = (value.replace(tzinfo=UTC) if value.tzinfo is None
                         else value.astimezone(UTC))
            return _SQLITE_FORMAT % (value.year, value.month, value.day, value.hour,
                                     value.minute, value.second, value.microsecond)

        return process

    def result_processor(self, dialect: Dialect,
                         coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            layered = super().result_processor(dialect, coltype)
            if self.impl_instance.dialect_impl(dialect).result_processor(
                    dialect, coltype) is not None:
                return layered
            return lambda value: (value if value is None or value.tzinfo is UTC
                                  else self.process_result_value(value, dialect))
        slow = super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                try:
                    parsed = datetime.fromisoformat(value)
                except ValueError:
                    pass
                else:
                    return (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None
                            else parsed.astimezone(UTC))
            result: datetime | None = slow(value) if slow is not None else value
            return result

        return process


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
