"""The leanest plausible baseline: a plain ASGI endpoint that parses the JSON and inserts one
row with the raw driver (aiosqlite / asyncpg), one commit per request, served by the same
uvicorn settings as `omniroute serve`.

No framework, no ORM, no signature check, no processing: what "one durable insert per
webhook" costs on this machine, and so the honest yardstick for the ingest path (the
SQLAlchemy baseline in bench/baseline_app.py spends much of its time in SQLAlchemy).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson
import uvicorn

from router.settings import Settings

TABLE = "bench_raw_events"
SQLITE_DDL = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "channel_id VARCHAR(32) NOT NULL, external_event_id VARCHAR(500) NOT NULL, "
    "payload BLOB NOT NULL, content_type VARCHAR(200) NOT NULL, state VARCHAR(16) NOT NULL, "
    "attempts INTEGER NOT NULL, received_at TIMESTAMP NOT NULL, "
    "UNIQUE (channel_id, external_event_id))",
    f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_state ON {TABLE} (state, id)",
]
PG_DDL = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id BIGSERIAL PRIMARY KEY, "
    "channel_id VARCHAR(32) NOT NULL, external_event_id VARCHAR(500) NOT NULL, "
    "payload BYTEA NOT NULL, content_type VARCHAR(200) NOT NULL, state VARCHAR(16) NOT NULL, "
    "attempts INTEGER NOT NULL, received_at TIMESTAMPTZ NOT NULL, "
    "UNIQUE (channel_id, external_event_id))",
    f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_state ON {TABLE} (state, id)",
]
PREFIX = "/v1/channels/"
SUFFIX = "/inbound"
ACCEPTED = orjson.dumps({"status": "accepted"})


class Store:
    """One insert + one commit per call, on the store the URL names."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self._lock = asyncio.Lock()  # SQLite: one writer, queued here (as the core does)
        self._conn: Any = None
        self._pool: Any = None

    async def open(self) -> None:
        if self.sqlite:
            import aiosqlite

            self._conn = await aiosqlite.connect(self.url.split("///", 1)[1])
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                await self._conn.execute(f"PRAGMA {pragma}")
            for ddl in SQLITE_DDL:
                await self._conn.execute(ddl)
            await self._conn.commit()
        else:
            import asyncpg

            dsn = self.url.replace("postgresql+asyncpg://", "postgresql://")
            self._pool = await asyncpg.create_pool(dsn, min_size=20, max_size=40)
            async with self._pool.acquire() as conn:
                for ddl in PG_DDL:
                    await conn.execute(ddl)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
        if self._pool is not None:
            await self._pool.close()

    async def insert(self, channel_id: str, event_id: str, body: bytes) -> None:
        now = datetime.now(UTC)
        if self.sqlite:
            async with self._lock:
                await self._conn.execute(
                    f"INSERT INTO {TABLE} (channel_id, external_event_id, payload, "
                    "content_type, state, attempts, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (channel_id, event_id, body, "application/json", "received", 0,
                     now.isoformat()))
                await self._conn.commit()
        else:
            # Outside a transaction block asyncpg's execute is its own transaction: one commit.
            await self._pool.execute(
                f"INSERT INTO {TABLE} (channel_id, external_event_id, payload, content_type, "
                "state, attempts, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT DO NOTHING",
                channel_id, event_id, body, "application/json", "received", 0, now)


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings) -> Any:
    store = Store(settings.database_url)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await store.open()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await store.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path: str = scope["path"]
        if scope["method"] == "GET" and path == "/healthz":
            await _answer(send, 200, b'{"status":"ok"}')
            return
        if scope["method"] != "POST" or not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
            await _answer(send, 404, b'{"error":"not found"}')
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            parsed = orjson.loads(body)
            event_id = str(parsed["external_message_id"])[:500]
            str(parsed["external_user_id"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            await _answer(send, 422, b'{"error":"invalid body"}')
            return
        await store.insert(path[len(PREFIX):-len(SUFFIX)][:32], event_id, body)
        await _answer(send, 202, ACCEPTED)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings()
    uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port,
                log_level=settings.log_level.lower(), proxy_headers=True,
                timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
