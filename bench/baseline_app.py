"""The baseline: a bare FastAPI endpoint that parses the same JSON and inserts one row, one
commit per request, into the same database, served with the same uvicorn settings as
`omniroute serve`. It skips the signature check and all processing, so it flatters itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI, HTTPException, Request
from pydantic import ValidationError
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql, sqlite

from connectors.api.parse import parse_body
from router.db import create_engine, is_sqlite
from router.settings import Settings

metadata = MetaData()
# The shape of inbound_events, under names of its own.
events = Table(
    "bench_baseline_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel_id", String(32), nullable=False),
    Column("external_event_id", String(500), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("channel_id", "external_event_id", name="uq_bench_baseline_events"),
    Index("ix_bench_baseline_events_state", "state", "id"),
)


def create_app(settings: Settings) -> FastAPI:
    engine = create_engine(settings.database_url)
    embedded = is_sqlite(settings.database_url)
    dialect = sqlite if embedded else postgresql
    # SQLite has one writer: queue on a lock instead of its sleeping busy handler (as the core).
    lock = asyncio.Lock()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/channels/{channel_id}/inbound", status_code=202)
    async def inbound(channel_id: str, request: Request) -> dict[str, str]:
        body = await request.body()
        try:
            message = parse_body(body)
        except ValidationError as exc:
            raise HTTPException(422, str(exc)) from None
        stmt = dialect.insert(events).values(
            channel_id=channel_id, external_event_id=message.external_message_id,
            payload=body, content_type="application/json", state="received", attempts=0,
            received_at=datetime.now(UTC),
        ).on_conflict_do_nothing(index_elements=["channel_id", "external_event_id"])
        async with lock if embedded else contextlib.nullcontext():
            async with engine.begin() as conn:
                await conn.execute(stmt)
        return {"status": "accepted"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = Settings()
    # The same uvicorn.run call as `omniroute serve` (router/cli.py).
    uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port,
                log_level=settings.log_level.lower(), proxy_headers=True,
                timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
