"""SQLite on the event loop's own thread, instead of a thread per connection.

aiosqlite runs every call (cursor, execute, fetch, close: about four per statement) on a
worker thread and hands the result back: two context switches and a GIL hand-off each. For
SQLite that costs more than the work. In a micro-benchmark a two-statement transaction took
2.3 ms of CPU through the thread and 0.85 ms run in place (bench/NOTES.md).

A statement here is short and never waits on this process: readers never wait in WAL mode,
and our writers queue on an asyncio lock before they BEGIN (router/core.py). What can wait
runs in a thread, so the loop never blocks on it:
- BEGIN IMMEDIATE, which waits (busy_timeout) while another process holds the write lock:
  a CLI command, or a second server on the same file;
- checkpoints, which write the WAL back and fsync: commits do not start them
  (wal_autocheckpoint=0); the server's `Checkpointer` runs one in a thread once a second.
  (Short-lived engines, the CLI's, leave it to the last connection's close, as SQLite does.)

The class keeps aiosqlite's interface, which SQLAlchemy's `sqlite+aiosqlite` dialect drives,
including the `_tx` queue it uses to set the isolation level (tests/router/test_sqlite_loop.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite

log = logging.getLogger("omniroute.db")
_WAITS = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")


class _InPlace:
    """Stands in for aiosqlite's thread queue: runs what is put on it at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the loop, but for BEGIN IMMEDIATE."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _InPlace()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if args and isinstance(args[0], str) and args[0].lstrip().upper().startswith(_WAITS):
            return await asyncio.to_thread(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def _connect(self) -> LoopConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, LoopConnection]:
        return self._connect().__await__()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def connector(database: str, **kwargs: Any) -> Callable[[], sqlite3.Connection]:
    """Opens `database` as SQLAlchemy's pysqlite dialect would, usable from any thread."""

    def connect() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(
            database, **{**kwargs, "check_same_thread": False})
        connection.execute("PRAGMA wal_autocheckpoint=0")
        return connection

    return connect


class Checkpointer:
    """Writes the WAL back into the database file in a thread, once a second."""

    def __init__(self, database: str, interval: float = 1.0) -> None:
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._connection = sqlite3.connect(database, timeout=5, check_same_thread=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="omniroute-sqlite-checkpoint")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # A last full checkpoint leaves the database file complete on shutdown.
        with contextlib.suppress(sqlite3.Error):
            await asyncio.to_thread(self._checkpoint, "TRUNCATE")
        self._connection.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await asyncio.to_thread(self._checkpoint, "PASSIVE")
            except sqlite3.Error as exc:
                log.warning("SQLite checkpoint failed: %s", exc)

    def _checkpoint(self, mode: str) -> None:
        # PASSIVE copies what no reader still needs and never waits; TRUNCATE (at shutdown)
        # waits up to the timeout for readers and writers to finish, then empties the WAL.
        self._connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
