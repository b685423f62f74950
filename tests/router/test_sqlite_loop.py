"""SQLite runs on the event loop's thread; what can wait (another process's lock, a
checkpoint's fsync) runs in a thread, and the loop goes on meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from router.db import create_engine, session_factory, sqlite_file
from router.sqlite_loop import Checkpointer, LoopConnection


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def test_statements_run_on_the_loop_thread(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, LoopConnection)
            seen: list[int] = []
            await raw.driver_connection.create_function(
                "where_am_i", 0, lambda: seen.append(threading.get_ident()) or 1)
            assert (await conn.execute(text("SELECT where_am_i()"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
        assert seen == [threading.get_ident()]
    finally:
        await engine.dispose()


async def test_waiting_for_another_process_lock_leaves_the_loop_free(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v INTEGER)"))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # as another process writing would
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def write() -> None:
            async with session_factory(engine, write=True)() as session:
                await session.execute(text("INSERT INTO t VALUES (1)"))
                await session.commit()

        ticking = asyncio.create_task(ticker())
        writing = asyncio.create_task(write())
        await asyncio.sleep(0.05)
        waiting_since = ticks
        await asyncio.sleep(0.2)
        # The write still waits for the lock, and the loop ran meanwhile (run in place, the
        # wait would have held the loop until busy_timeout).
        assert not writing.done()
        assert ticks > waiting_since
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 10)
        ticking.cancel()
        other.close()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_the_checkpointer_writes_the_wal_back(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    database = sqlite_file(engine)
    assert database == str(path)
    checkpointer = Checkpointer(database, interval=0.05)
    checkpointer.start()
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v TEXT)"))
            await conn.execute(text("INSERT INTO t VALUES (:v)"), [{"v": "x" * 1000}] * 500)
        assert _size(Path(str(path) + "-wal")) > 400_000
        for _ in range(100):  # the WAL's frames reach the database file
            await asyncio.sleep(0.05)
            if _size(path) > 400_000:
                break
        assert _size(path) > 400_000
    finally:
        await engine.dispose()
        await checkpointer.stop()
    assert _size(Path(str(path) + "-wal")) == 0  # written back at shutdown
    assert sqlite_file(create_engine("sqlite+aiosqlite:///:memory:")) is None
