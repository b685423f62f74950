"""UTCDateTime's one-step SQLite conversion writes and reads exactly what SQLAlchemy's
layered one did (stored rows from before stay comparable and sortable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.types import TypeDecorator

from router.models.base import UTCDateTime


class Layered(UTCDateTime):
    """The same type through TypeDecorator's own processors (the way it used to run)."""

    cache_ok = True
    bind_processor = TypeDecorator.bind_processor  # type: ignore[assignment]
    result_processor = TypeDecorator.result_processor  # type: ignore[assignment]


DIALECT = sqlite.dialect()
FAST, SLOW = UTCDateTime().dialect_impl(DIALECT), Layered().dialect_impl(DIALECT)


@pytest.mark.parametrize("value", [
    datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, 0, 5, tzinfo=timezone(timedelta(hours=3))),
    datetime(1999, 1, 2, 3, 4, 5, 678901),  # naive: taken as UTC
    datetime.fromisoformat("2020-01-01T00:00:00+00:00"),
    None,
])
def test_binds_the_same_text_and_reads_the_same_instant(value: datetime | None) -> None:
    fast_bind, slow_bind = FAST.bind_processor(DIALECT), SLOW.bind_processor(DIALECT)
    fast_read = FAST.result_processor(DIALECT, None)
    slow_read = SLOW.result_processor(DIALECT, None)
    assert fast_bind and slow_bind and fast_read and slow_read
    stored = fast_bind(value)
    assert stored == slow_bind(value)
    assert fast_read(stored) == slow_read(stored)
    if value is not None:
        assert fast_read(stored).tzinfo is UTC


@pytest.mark.parametrize("stored", ["2026-12-01 12:00:00", "2026-12-01 12:00:00.123",
                                    "2026-12-01T12:00:00", "2026-12-01"])
def test_reads_text_other_writers_left(stored: str) -> None:
    fast_read = FAST.result_processor(DIALECT, None)
    slow_read = SLOW.result_processor(DIALECT, None)
    assert fast_read and slow_read
    assert fast_read(stored) == slow_read(stored)


@pytest.mark.parametrize("value", [
    datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=3))),
    datetime(1999, 1, 2, 3, 4, 5, 678901),
    None,
])
def test_postgresql_passes_utc_through_and_converts_the_rest(value: datetime | None) -> None:
    dialect = asyncpg.dialect()
    fast, slow = UTCDateTime().dialect_impl(dialect), Layered().dialect_impl(dialect)
    fast_bind, slow_bind = fast.bind_processor(dialect), slow.bind_processor(dialect)
    fast_read = fast.result_processor(dialect, None)
    assert fast_bind and slow_bind and fast_read
    assert fast_bind(value) == slow_bind(value)
    if value is None:
        assert fast_read(None) is None
        return
    instant = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    assert fast_bind(value) == instant and fast_bind(value).tzinfo is UTC
    assert fast_read(fast_bind(value)) == instant
