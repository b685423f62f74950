"""Live events for agent front ends: Server-Sent Events and WebSocket, resumable.

The stream itself is in router/events/stream.py; an accepted `GET /v1/events` is usually served
by its fast path before it gets here, and this route answers the rest (refusals included).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.responses import Response

from router.access.viewer import Viewer, viewer_for
from router.auth.deps import AgentDep, CoreDep, StreamAgentDep, websocket_principal
from router.auth.tickets import TICKET_SECONDS, issue_ticket
from router.errors import Forbidden, ProblemError
from router.events.bus import EventBus, Subscription
from router.events.schemas import EventTicketOut
from router.events.stream import EventStream, matches, parse_types
from router.openapi_docs import problems

router = APIRouter(prefix="/v1/events", tags=["events"])
# WebSocket close code for "try again later": the client fell behind and was dropped.
WS_TRY_AGAIN = 1013


@router.post("/ticket", summary="A short-lived ticket for opening event streams",
             response_model=EventTicketOut, status_code=201, responses=problems(401, 403))
async def ticket(core: CoreDep, principal: AgentDep) -> EventTicketOut:
    """For browsers (EventSource, WebSocket cannot send headers): `?ticket=` on /v1/events and
    /v1/events/ws for the next minute; never put the API key itself in a URL."""
    issued = issue_ticket(core.secret_key, principal)
    return EventTicketOut(ticket=issued.value, expires_in=TICKET_SECONDS,
                          expires_at=datetime.fromtimestamp(issued.expires_at, UTC))


# response_class only documents the route; the handler returns its own EventStream.
@router.get("", summary="Live events (Server-Sent Events)", response_class=StreamingResponse,
            responses=problems(401, 403))
async def sse(
    request: Request, principal: StreamAgentDep,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=64, description="Resume after this id")] = None,
    types: Annotated[str | None, Query(max_length=500, description="Comma-separated types")] = None,
    ticket: Annotated[str | None, Query(max_length=500, description="From POST /v1/events/"
                                        "ticket, for browsers (instead of the header)")] = None,
) -> Response:
    """message.created, message.status, thread.updated, customer.merged, ...; resume with
    Last-Event-ID (or `since`). A `stream.reset` event means: reload, events were missed."""
    core = request.app.state.core
    return EventStream(core.bus, last_event_id or since, parse_types(types),
                       viewer_for(principal, core.presence))


async def _ws_pump(websocket: WebSocket, subscription: Subscription,
                   wanted: set[str] | None, viewer: Viewer) -> None:
    last_id = ""
    while True:
        batch = await subscription.next()
        if batch is None:
            reason = subscription.closed or "closed"
            await websocket.close(code=WS_TRY_AGAIN,
                                  reason=f"{reason}; reconnect with ?since={last_id}"[:120])
            return
        if not batch:
            await websocket.send_text('{"type":"ping"}')
        for event in batch:
            if event.id:
                last_id = event.id
            if viewer.admits(event) and matches(event, wanted):
                await websocket.send_bytes(event.wire_json())


@router.websocket("/ws")
async def websocket(websocket: WebSocket) -> None:
    """The same events over a WebSocket; `?since=` resumes, `?ticket=` (POST /v1/events/ticket)
    authenticates browsers."""
    try:
        principal = await websocket_principal(websocket)
        if not principal.at_least("agent"):
            raise Forbidden(f"this stream needs the agent role; your key has {principal.role}")
    except ProblemError as exc:
        # Accept first: a browser sees close codes, never the status of a refused handshake.
        # 4000 + the HTTP status: 4401 no valid key or ticket, 4403 role, 4429 rate limit.
        await websocket.accept()
        await websocket.close(code=4000 + exc.status, reason=exc.detail[:120])
        return
    await websocket.accept()
    core = websocket.app.state.core
    bus: EventBus = core.bus
    subscription = await bus.attach(websocket.query_params.get("since"))
    viewer = viewer_for(principal, core.presence)
    viewer.opened()
    # A WebSocket must be read to notice the client's close; the sending runs beside it.
    sender = asyncio.create_task(
        _ws_pump(websocket, subscription, parse_types(websocket.query_params.get("types")),
                 viewer))
    try:
        while not sender.done():
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        subscription.close()
        viewer.closed()
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
