"""Declarative base, naming convention and portable column types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
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


def _as_utc(value: datetime) -> datetime:
    """Naive values are UTC already; aware ones are converted."""
    if value.tzinfo is UTC:
        return value
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = _as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return _as_utc(value)

    # An inbound batch binds and reads thousands of these. On SQLite each went through three
    # layers (this class, SQLAlchemy's DATETIME text format, its regex parse): one function
    # each way instead, writing the same text SQLAlchemy writes. On PostgreSQL (asyncpg takes
    # and gives aware datetimes) a UTC value passes straight through.
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_text
        if self.impl_instance.dialect_impl(dialect).bind_processor(dialect) is not None:
            return super().bind_processor(dialect)  # a driver with its own step: keep it
        return _utc_or_none

    def result_processor(self, dialect: Dialect,
                         coltype: object) -> Callable[[Any], Any] | None:
        layered = super().result_processor(dialect, coltype)
        if dialect.name == "sqlite":
            return partial(_sqlite_datetime, layered=layered)
        if self.impl_instance.dialect_impl(dialect).result_processor(
                dialect, coltype) is not None:
            return layered
        return _utc_or_none


# The hot processors test for UTC before calling _as_utc: nearly every value is UTC already.
def _utc_or_none(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo is UTC else _as_utc(value)


def _sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = _as_utc(value)
    return _SQLITE_FORMAT % (value.year, value.month, value.day, value.hour,
                             value.minute, value.second, value.microsecond)


def _sqlite_datetime(value: Any, layered: Callable[[Any], Any] | None) -> datetime | None:
    """Stored text read with the C parser; anything it refuses goes the layered way."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:  # stored naive: UTC
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else _as_utc(parsed)
    result: datetime | None = layered(value) if layered is not None else value
    return result


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
