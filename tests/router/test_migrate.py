"""Migrations on PostgreSQL: replicas starting at once take turns under an advisory lock, and
`serve` on an unmigrated database says in one line what to run."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from router.migrate import alembic_config, current_revision
from tests.faults.processes import (
    ROOT,
    Replica,
    create_empty_pg_database,
    drop_pg_database,
    replica_env,
)
from tests.stores import PG_ADMIN_DSN


@pytest.fixture
async def fresh_pg(pg_url: str) -> AsyncIterator[str]:
    """A PostgreSQL database with nothing in it (pg_url only proves the server is there)."""
    name = f"omniroute_fresh_{secrets.token_hex(4)}"
    url = await create_empty_pg_database(PG_ADMIN_DSN, name)
    yield url
    await drop_pg_database(PG_ADMIN_DSN, name)


def _head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _migrate(url: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "router.cli", "migrate", *extra], cwd=ROOT,
                            env=replica_env(url), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


async def test_migrations_started_at_once_take_turns(fresh_pg: str) -> None:
    runs = [_migrate(fresh_pg) for _ in range(3)]
    results = [(run.wait(120), *run.communicate()) for run in runs]
    assert [code for code, _out, _err in results] == [0, 0, 0], results
    assert await asyncio.to_thread(current_revision, fresh_pg) == _head()
    dsn = fresh_pg.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
        # The lock is released when each run ends: nobody holds it now.
        assert await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0
    finally:
        await conn.close()


async def test_serve_on_an_unmigrated_database_says_what_to_run(
        fresh_pg: str, tmp_path: Path) -> None:
    replica = Replica(replica_env(fresh_pg), tmp_path / "serve.log").start()
    code = await replica.exited(60)
    output = replica.output()
    assert code == 3, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines == ["omniroute: the database has no omniroute schema yet: run "
                     "`omniroute migrate` first"], output
    check = _migrate(fresh_pg, "--check")
    assert check.wait(60) == 3


async def test_replicas_started_at_once_migrate_under_the_lock(
        fresh_pg: str, tmp_path: Path) -> None:
    replicas = [Replica(replica_env(fresh_pg, migrate_on_start="true"),
                        tmp_path / f"r{i}.log").start() for i in range(2)]
    try:
        await asyncio.gather(*(replica.ready() for replica in replicas))
        assert await asyncio.to_thread(current_revision, fresh_pg) == _head()
    finally:
        for replica in replicas:
            replica.terminate()
        for replica in replicas:
            await replica.exited(30)
    for replica in replicas:
        assert "Traceback" not in replica.output()
