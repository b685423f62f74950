"""Operators' view of raw inbound events: failures are visible and replayable."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from router.auth.deps import CoreDep, ReadDep, SessionDep, SupervisorDep
from router.errors import Conflict, NotFound
from router.ids import IdPath
from router.models import InboundEvent
from router.openapi_docs import problems
from router.pagination import CursorQuery, LimitQuery, Page, cursor_id, decode_cursor, split_page

router = APIRouter(prefix="/v1/inbound-events", tags=["operations"])
# `ignored`: on purpose nothing came of it (a bounce, a mail daemon); `partial`: a part could
# not be read and the rest was applied.
EventState = Literal["received", "processed", "failed", "ignored", "partial"]
# Replaying these is safe (applying an event twice changes nothing) and may now succeed.
RETRYABLE = frozenset({"failed", "ignored", "partial"})


class InboundEventOut(BaseModel):
    id: int
    channel_id: str
    external_event_id: str
    content_type: str
    state: EventState
    # Why it failed; or, for `ignored` / `partial`, why nothing / not all of it was applied.
    error: str | None
    attempts: int
    received_at: datetime
    processed_at: datetime | None
    size: int


def _view(row: InboundEvent) -> dict[str, Any]:
    return {"id": row.id, "channel_id": row.channel_id,
            "external_event_id": row.external_event_id, "content_type": row.content_type,
            "state": row.state, "error": row.error, "attempts": row.attempts,
            "received_at": row.received_at, "processed_at": row.processed_at,
            "size": len(row.payload)}


@router.get("", summary="List raw inbound events", response_model=Page[InboundEventOut],
            responses=problems(400, 401, 403, 422))
async def list_(
    session: ReadDep, _: SupervisorDep,
    state: Annotated[EventState | None, Query()] = None,
    channel_id: Annotated[str | None, Query(max_length=32)] = None,
    cursor: CursorQuery = None, limit: LimitQuery = 50,
) -> dict[str, Any]:
    """Newest first; `state=failed` lists poison events with their error."""
    query = select(InboundEvent)
    if state:
        query = query.where(InboundEvent.state == state)
    if channel_id:
        query = query.where(InboundEvent.channel_id == channel_id)
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        query = query.where(InboundEvent.id < cursor_id(last_id))
    rows = list(await session.scalars(query.order_by(InboundEvent.id.desc()).limit(limit + 1)))
    rows, next_cursor = split_page(rows, limit, lambda row: [row.id])
    return {"items": [_view(r) for r in rows], "next_cursor": next_cursor}


@router.get("/{event_id}", summary="Get a raw inbound event", response_model=InboundEventOut,
            responses=problems(401, 403, 404, 422))
async def get(event_id: IdPath, session: ReadDep, _: SupervisorDep) -> dict[str, Any]:
    """One raw event's state and error."""
    row = await session.get(InboundEvent, event_id)
    if row is None:
        raise NotFound(f"inbound event {event_id} does not exist")
    return _view(row)


@router.post("/{event_id}/retry", summary="Replay a failed inbound event",
             response_model=InboundEventOut, responses=problems(401, 403, 404, 409, 422))
async def retry(
    event_id: IdPath, core: CoreDep, session: SessionDep, _: SupervisorDep
) -> dict[str, Any]:
    """Put a failed, ignored or partial event back in the queue; processing it again is
    idempotent."""
    row = await session.get(InboundEvent, event_id)
    if row is None:
        raise NotFound(f"inbound event {event_id} does not exist")
    if row.state not in RETRYABLE:
        raise Conflict(f"inbound event {event_id} is {row.state}; only failed, ignored or "
                       "partial events are retried")
    row.state = "received"
    row.error = None
    row.processed_at = None
    core.gateway.wake_inbound()
    return _view(row)
