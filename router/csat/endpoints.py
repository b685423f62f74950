"""CSAT for supervisors: the settings and the answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import and_, or_, select

from router.access.scope import team_scope
from router.auth.deps import ReadDep, SessionDep, SupervisorDep
from router.csat.answers import csat_view
from router.csat.schemas import CsatOut
from router.csat.settings import CHANNEL_TYPES, CsatSettings, load_settings, save_settings
from router.errors import Unprocessable
from router.ids import IdQuery
from router.instants import IsoDateTime
from router.models import CsatResponse
from router.openapi_docs import problems
from router.pagination import (
    BadCursor,
    CursorQuery,
    LimitQuery,
    Page,
    cursor_id,
    decode_cursor,
    split_page,
)

router = APIRouter(tags=["csat"])



@router.get("/v1/settings/csat", summary="CSAT survey settings", response_model=CsatSettings,
            responses=problems(401, 403))
async def get_settings(session: ReadDep, _: SupervisorDep) -> CsatSettings:
    """Whether surveys go out, after how long, with which question, on which channels."""
    return await load_settings(session)


@router.put("/v1/settings/csat", summary="Change CSAT survey settings",
            response_model=CsatSettings, responses=problems(401, 403, 422))
async def put_settings(body: CsatSettings, session: SessionDep, _: SupervisorDep) -> CsatSettings:
    """Replace the settings; surveys already scheduled keep their due time."""
    unknown = sorted(set(body.channel_types) - set(CHANNEL_TYPES))
    if unknown:
        raise Unprocessable(f"unknown channel types {unknown}; known: {list(CHANNEL_TYPES)}",
                            extra={"errors": [{"field": "channel_types",
                                               "message": "unknown channel type"}]})
    await save_settings(session, body)
    return body


@router.get("/v1/csat", summary="CSAT answers", response_model=Page[CsatOut],
            responses=problems(400, 401, 403, 422))
async def list_answers(
    session: ReadDep, principal: SupervisorDep,
    from_: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    to: Annotated[IsoDateTime | None, Query()] = None,
    team_id: IdQuery = None, agent_id: IdQuery = None,
    channel_type: Annotated[str | None, Query(max_length=32)] = None,
    cursor: CursorQuery = None, limit: LimitQuery = 50,
) -> dict[str, Any]:
    """Answers, newest first, by period, team, agent or channel type."""
    query = select(CsatResponse).order_by(CsatResponse.created_at.desc(),
                                          CsatResponse.id.desc())
    if from_ is not None:
        query = query.where(CsatResponse.created_at >= _utc(from_))
    if to is not None:
        query = query.where(CsatResponse.created_at < _utc(to))
    if team_id is not None:
        query = query.where(CsatResponse.team_id == team_id)
    if agent_id is not None:
        query = query.where(CsatResponse.agent_id == agent_id)
    if channel_type is not None:
        query = query.where(CsatResponse.channel_type == channel_type)
    scope = team_scope(principal)
    if scope is not None:
        query = query.where(CsatResponse.team_id.in_(sorted(scope)))
    if cursor is not None:
        at, last_id = decode_cursor(cursor, 2)
        try:
            moment = datetime.fromisoformat(str(at))
        except ValueError:
            moment = None
        if moment is None:
            raise BadCursor("this cursor was not issued by this API")
        number = cursor_id(last_id)
        query = query.where(or_(CsatResponse.created_at < moment,
                                and_(CsatResponse.created_at == moment,
                                     CsatResponse.id < number)))
    rows = list(await session.scalars(query.limit(limit + 1)))
    page, next_cursor = split_page(rows, limit, lambda r: [r.created_at.isoformat(), r.id])
    return {"items": [csat_view(r) for r in page], "next_cursor": next_cursor}


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at
