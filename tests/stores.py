"""Test databases: a migrated SQLite template copied per test; one PostgreSQL database per
test run (so parallel runs on one machine never share tables), truncated per test."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg

from router.migrate import upgrade
from router.models import Base


def _run(coro_fn: Callable[[], Coroutine[Any, Any, None]] | None = None,
         fn: Callable[[], None] | None = None) -> None:
    """Run blocking set-up in its own thread: fixtures may be asked for inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        if coro_fn is not None:
            pool.submit(asyncio.run, coro_fn()).result()
        if fn is not None:
            pool.submit(fn).result()


PG_ADMIN_DSN = os.environ.get("OMNIROUTE_TEST_PG", "postgresql://root@127.0.0.1:5432/test")


def pg_reachable() -> str | None:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
        await conn.close()

    try:
        _run(probe)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def create_pg_database() -> tuple[str, str]:
    """(database name, SQLAlchemy URL) of a new, migrated database."""
    name = f"omniroute_test_{os.getpid()}_{secrets.token_hex(3)}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    _run(create)
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    _run(fn=lambda: upgrade(url))
    return name, url


def drop_pg_database(name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    _run(drop)


async def truncate_pg(url: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    _run(fn=lambda: upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / f"omni-{secrets.token_hex(4)}.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"
