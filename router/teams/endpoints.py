"""Team API: lines of support with members, a strategy, stickiness, calendar and overflow."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment import service as assignment
from router.auth.deps import AgentDep, CoreDep, ReadDep, SessionDep, SupervisorDep
from router.errors import Conflict
from router.ids import IdPath
from router.models import Team
from router.models.base import utcnow
from router.openapi_docs import problems
from router.pagination import CursorQuery, LimitQuery, Page, cursor_id, decode_cursor, split_page
from router.teams.membership import set_team_members
from router.teams.schemas import TeamIn, TeamOut, TeamPatch
from router.teams.service import (
    announce_team,
    blockers,
    check_links,
    live_team,
    name_free,
    team_view,
    team_views,
)

router = APIRouter(prefix="/v1/teams", tags=["teams"])


async def flush_named(session: AsyncSession, name: str) -> None:
    """Flush; a name taken meanwhile by a concurrent request is a 409, not a 500."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"another team is already called {name!r}") from None
# Changing these can move the team's queue.
ROUTING_FIELDS = ("strategy", "overflow_team_id", "overflow_after_seconds", "sticky",
                  "release_on_offline")


@router.post("", summary="Create a team", response_model=TeamOut,
             status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 409, 422))
async def create(body: TeamIn, core: CoreDep, session: SessionDep,
                 _: SupervisorDep) -> dict[str, Any]:
    """A line of support; `member_ids`, the calendar, SLA policy and overflow team must exist."""
    name = body.name.strip()
    await name_free(session, name, None)
    fields = body.model_dump(exclude={"member_ids", "name"})
    team = Team(name=name, settings={}, **fields)
    await check_links(session, team)
    session.add(team)
    await flush_named(session, name)
    await set_team_members(core, session, team, body.member_ids, changed=True)
    await announce_team(session, team)
    return await team_view(session, team)


@router.get("", summary="List teams", response_model=Page[TeamOut],
            responses=problems(400, 401, 422))
async def list_(session: ReadDep, _: AgentDep, cursor: CursorQuery = None,
                limit: LimitQuery = 50) -> dict[str, Any]:
    """Teams by id (deleted ones are gone from the list)."""
    query = select(Team).where(Team.deleted_at.is_(None))
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        query = query.where(Team.id > cursor_id(last_id))
    rows = list(await session.scalars(query.order_by(Team.id).limit(limit + 1)))
    rows, next_cursor = split_page(rows, limit, lambda t: [t.id])
    return {"items": await team_views(session, rows), "next_cursor": next_cursor}


@router.get("/{team_id}", summary="Get a team", response_model=TeamOut,
            responses=problems(401, 404, 422))
async def get(team_id: IdPath, session: ReadDep, _: AgentDep) -> dict[str, Any]:
    """One team with its members."""
    return await team_view(session, await live_team(session, team_id))


@router.patch("/{team_id}", summary="Update a team", response_model=TeamOut,
              responses=problems(401, 403, 404, 409, 422))
async def patch(team_id: IdPath, body: TeamPatch, core: CoreDep, session: SessionDep,
                _: SupervisorDep) -> dict[str, Any]:
    """Change the strategy, members, line, calendar, SLA policy or overflow."""
    team = await live_team(session, team_id)
    fields = body.model_dump(exclude_unset=True)
    for name in ("name", "line", "strategy", "sticky", "release_on_offline"):
        if name in fields and fields[name] is None:
            fields.pop(name)  # not nullable: leaving it out and sending null mean the same
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        await name_free(session, fields["name"], team.id)
    members = fields.pop("member_ids", None)
    routing = any(name in fields and fields[name] != getattr(team, name)
                  for name in ROUTING_FIELDS)
    for name, value in fields.items():
        setattr(team, name, value)
    team.updated_at = utcnow()
    await check_links(session, team)
    await flush_named(session, team.name)
    if members is not None:
        await set_team_members(core, session, team, members, changed=routing)
    elif routing:
        await assignment.on_team_changed(core, session, team.id)
    await announce_team(session, team)
    return await team_view(session, team)


@router.delete("/{team_id}", summary="Delete a team", status_code=status.HTTP_204_NO_CONTENT,
               responses=problems(401, 403, 404, 409))
async def delete(team_id: IdPath, core: CoreDep, session: SessionDep, _: SupervisorDep) -> None:
    """409 while it holds open cases or other teams or rules send cases to it; its resolved
    cases keep reporting under it, and its name is free again."""
    team = await live_team(session, team_id)
    found = await blockers(session, team)
    if found:
        raise Conflict(f"team {team_id} cannot be deleted: " + "; ".join(found),
                       extra={"blockers": found})
    await set_team_members(core, session, team, [])
    team.deleted_at = utcnow()
    await announce_team(session, team, "team.deleted")
