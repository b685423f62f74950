"""Migration 0002 turns each existing thread with customer messages into one case."""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from router.db import create_engine
from router.migrate import upgrade
from tests.stores import PG_ADMIN_DSN, pg_reachable

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ROWS = [
    # (thread status, messages as (direction, minute, automatic))
    ("open", [("inbound", 0, False), ("inbound", 5, False)]),
    ("resolved", [("inbound", 1, False), ("outbound", 2, False), ("outbound", 3, True)]),
    ("open", []),  # nobody wrote: no case
]


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for n, (status, messages) in enumerate(ROWS, start=1):
                await conn.execute(text(
                    "INSERT INTO customers (id, name, created_at, updated_at) "
                    "VALUES (:id, :name, :at, :at)"), {"id": n, "name": f"c{n}", "at": T0})
                await conn.execute(text(
                    "INSERT INTO threads (id, customer_id, status, priority, tags, "
                    "last_message_at, hidden, created_at, updated_at) VALUES (:id, :id, "
                    ":status, 'high', '[]', :at, false, :at, :at)"),
                    {"id": n, "status": status, "at": T0})
                for direction, minute, automatic in messages:
                    at = T0.replace(minute=minute)
                    await conn.execute(text(
                        "INSERT INTO messages (thread_id, direction, text, attachments, meta, "
                        "edits, sent_at, created_at, status, automatic) VALUES (:t, :d, 'x', "
                        "'[]', '{}', '[]', :at, :at, 'received', :auto)"),
                        {"t": n, "d": direction, "at": at, "auto": automatic})
    finally:
        await engine.dispose()


async def _cases(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text(
                "SELECT c.thread_id, c.status, c.opened_at, c.messages_in, c.agent_replies, "
                "c.resolved_by, c.priority_rank, t.case_id = c.id FROM cases c "
                "JOIN threads t ON t.id = c.thread_id ORDER BY c.thread_id"))
            return [tuple(row) for row in rows]
    finally:
        await engine.dispose()


def _check(url: str) -> None:
    upgrade(url, "0001")
    asyncio.run(_seed(url))
    upgrade(url, "head")
    got = asyncio.run(_cases(url))
    assert [(r[0], r[1], r[3], r[4], r[5], r[6], bool(r[7])) for r in got] == [
        (1, "open", 2, 0, None, 1, True),
        (2, "resolved", 1, 1, "agent", 1, True),
    ]
    opened = [r[2] if isinstance(r[2], datetime) else datetime.fromisoformat(str(r[2]))
              for r in got]
    assert [o.replace(tzinfo=UTC) if o.tzinfo is None else o for o in opened] == [
        T0, T0.replace(minute=1)]


def test_threads_of_a_0001_database_become_cases_on_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")


def test_threads_of_a_0001_database_become_cases_on_postgresql() -> None:
    problem = pg_reachable()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable under CI=true: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"omniroute_mig_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        _check(f"{base}/{name}")
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
