"""Live events for agent front ends: Server-Sent Events and WebSocket, resumable."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from router.auth.deps import AgentDep, websocket_principal
from router.errors import ProblemError
from router.events.bus import Event
from router.openapi_docs import problems

router = APIRouter(prefix="/v1/events", tags=["events"])
HEARTBEAT_SECONDS = 15.0


def _sse(event: Event) -> bytes:
    head = f"id: {event.id}\n" if event.id else ""
    return (head + f"event: {event.type}\ndata: ").encode() + orjson.dumps(event.wire()) + b"\n\n"


def _matches(event: Event, types: set[str] | None) -> bool:
    return types is None or event.type in types or event.type == "stream.reset"


async def _with_heartbeats(events: AsyncIterator[Event]) -> AsyncIterator[Event | None]:
    pending: asyncio.Task[Event] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
            if not done:
                yield None
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield event
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
        await events.aclose()  # type: ignore[attr-defined]


def _types(raw: str | None) -> set[str] | None:
    return {t.strip() for t in raw.split(",") if t.strip()} if raw else None


@router.get("", summary="Live events (Server-Sent Events)", response_class=StreamingResponse,
            responses=problems(401))
async def sse(
    request: Request, _: AgentDep,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=64, description="Resume after this id")] = None,
    types: Annotated[str | None, Query(max_length=500, description="Comma-separated types")] = None,
) -> StreamingResponse:
    """message.created, message.status, thread.updated, customer.merged, ...; resume with
    Last-Event-ID (or `since`). A `stream.reset` event means: reload, events were missed."""
    bus = request.app.state.core.bus
    wanted = _types(types)

    async def body() -> AsyncIterator[bytes]:
        yield b": connected\n\n"
        async for event in _with_heartbeats(bus.subscribe(last_event_id or since)):
            if event is None:
                yield b": keep-alive\n\n"
            elif _matches(event, wanted):
                yield _sse(event)

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.websocket("/ws")
async def websocket(websocket: WebSocket) -> None:
    """The same events over a WebSocket; `?since=` resumes, `?access_token=` for browsers."""
    try:
        await websocket_principal(websocket)
    except ProblemError as exc:
        # Accept first: a browser sees close codes, never the status of a refused handshake.
        await websocket.accept()
        await websocket.close(code=4401, reason=exc.detail[:120])
        return
    await websocket.accept()
    bus = websocket.app.state.core.bus
    wanted = _types(websocket.query_params.get("types"))
    since = websocket.query_params.get("since")

    async def pump() -> None:
        async for event in _with_heartbeats(bus.subscribe(since)):
            if event is None:
                await websocket.send_text('{"type":"ping"}')
            elif _matches(event, wanted):
                await websocket.send_bytes(orjson.dumps(event.wire()))

    sender = asyncio.create_task(pump())
    try:
        while True:
            receive = asyncio.ensure_future(websocket.receive_text())
            done, _ = await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                receive.cancel()
                break
            receive.result()
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
