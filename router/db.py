"""Async engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy import event, exc, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from router.sqlite_loop import LoopConnection, connector
from router.text import clean_value

# SQLSTATE classes of a server that is gone or going: connection exceptions, shutting down /
# cannot connect now (57P01-57P03), and too many connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300")


def database_unavailable(error: BaseException) -> bool:
    """The database could not be reached or dropped the connection (not a bad statement)."""
    if isinstance(error, (OSError, exc.TimeoutError, exc.InterfaceError)):
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        state = str(getattr(error.orig, "sqlstate", "") or "")
        if state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        return isinstance(error.orig, OSError) or type(error.orig).__name__ in {
            "ConnectionDoesNotExistError", "ConnectionFailureError", "CannotConnectNowError",
            "InterfaceError"}
    return False


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def load_json(text: str | bytes) -> Any:
    """A JSON column's value. SQLite keeps whatever JSON it was given, including escaped lone
    surrogates stored before text was cleaned at the connector boundary; read back they
    would make every response and event that carries them fail, so they come back as U+FFFD.
    (PostgreSQL refuses such values on write.)"""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return clean_value(json.loads(text))


def dump_json(value: Any) -> str:
    """A JSON column's text: orjson (a tenth of the stdlib's time), else the stdlib for what
    orjson refuses (integer keys, integers past 64 bits, lone surrogates)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def create_engine(url: str, pool_size: int = 20, max_overflow: int = 20) -> AsyncEngine:
    """An engine tuned for its store: WAL + real SAVEPOINTs on SQLite, a pool on PostgreSQL.

    The PostgreSQL pool covers the outbox's concurrent sends plus request handlers (a smaller
    one made outbox cycles queue for connections, bench/NOTES.md); mind max_connections when
    running many replicas. It hands out the most recently used connection first: after a
    burst had opened all 40, a FIFO pool kept rotating through them, each with its own cold
    prepared-statement cache, and webhook → agent p99 at 500 msg/s went from 80 to 150-460
    ms."""
    if is_sqlite(url):
        engine = create_async_engine(url, async_creator=_loop_connection(url),
                                     json_serializer=dump_json, json_deserializer=load_json)
        _tune_sqlite(engine)
        return engine
    # orjson for JSONB too (the stdlib's json.loads took 2 % of a known sender's CPU).
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                               pool_pre_ping=True, pool_use_lifo=True,
                               json_serializer=dump_json, json_deserializer=load_json)


def _loop_connection(url: str) -> Callable[[], Awaitable[LoopConnection]]:
    """Connections that run statements on the event loop (router/sqlite_loop.py says why),
    opened with the arguments SQLAlchemy's dialect derives from the URL."""
    parsed = make_url(url)
    args, params = parsed.get_dialect()().create_connect_args(parsed)
    opens = connector(*args, **{**params, "timeout": 30})

    async def create() -> LoopConnection:
        return await LoopConnection(opens)

    return create


def sqlite_file(engine: AsyncEngine) -> str | None:
    """The database file of a SQLite engine (None in memory or on PostgreSQL)."""
    database = engine.url.database
    if not is_sqlite(str(engine.url)) or not database or database == ":memory:":
        return None
    return database if not database.startswith("file:") else None


def _tune_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT (each inbound event is processed
    # in one); we take over BEGIN. IMMEDIATE takes the write lock up front, so two writers
    # wait on busy_timeout instead of failing with SQLITE_BUSY_SNAPSHOT mid-transaction.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("omniroute_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


SessionFactory = async_sessionmaker[AsyncSession]


def session_factory(engine: AsyncEngine, *, write: bool) -> SessionFactory:
    """Writers take SQLite's write lock at BEGIN; readers never block on it (WAL)."""
    bind = engine.execution_options(omniroute_write=True) if write else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)
