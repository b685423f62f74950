"""Agent API: the people who answer, their capacity, teams, load and presence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from router.agents.schemas import AgentIn, AgentOut, AgentPatch, Presence, PresenceIn
from router.agents.service import (
    agent_of,
    agent_view,
    agent_views,
    announce,
    check_capacity,
    clean_email,
    declare_presence,
    email_taken,
    flush_unique,
    get_agent,
    more_room,
)
from router.assignment import service as assignment
from router.auth.deps import AgentDep, CoreDep, ReadDep, SessionDep, SupervisorDep
from router.auth.keys import Principal
from router.errors import Forbidden
from router.ids import IdPath, IdQuery
from router.models import Agent, TeamMember
from router.openapi_docs import problems
from router.pagination import CursorQuery, LimitQuery, Page, cursor_id, decode_cursor, split_page
from router.teams.membership import set_agent_teams

router = APIRouter(prefix="/v1/agents", tags=["agents"])


def _may_manage(principal: Principal, role: str) -> None:
    if role == "admin" and not principal.at_least("admin"):
        raise Forbidden("only an admin may create, change or promote admin agents")


@router.post("", summary="Create an agent", response_model=AgentOut,
             status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 409, 422))
async def create(body: AgentIn, core: CoreDep, session: SessionDep,
                 principal: SupervisorDep) -> dict[str, Any]:
    """A person who answers; offline until they connect. Give them a key with POST /v1/keys."""
    _may_manage(principal, body.role)
    email = clean_email(body.email)
    await email_taken(session, email, None)
    agent = Agent(name=body.name.strip(), email=email, role=body.role, presence="offline",
                  capacity=check_capacity(core, body.capacity),
                  skills=sorted({s.strip() for s in body.skills if s.strip()}), active=True)
    session.add(agent)
    await flush_unique(session, email)
    if body.team_ids:
        await set_agent_teams(core, session, agent, body.team_ids)
    else:
        await announce(core, session, agent)
    return await agent_view(session, agent)


@router.get("", summary="List agents", response_model=Page[AgentOut],
            responses=problems(400, 401, 422))
async def list_(
    session: ReadDep, _: AgentDep, team_id: IdQuery = None,
    presence: Annotated[Presence | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    cursor: CursorQuery = None, limit: LimitQuery = 50,
) -> dict[str, Any]:
    """Agents by id, filtered by team, presence or whether they are active."""
    query = select(Agent)
    if team_id is not None:
        query = query.where(Agent.id.in_(
            select(TeamMember.agent_id).where(TeamMember.team_id == team_id)))
    if presence is not None:
        query = query.where(Agent.presence == presence)
    if active is not None:
        query = query.where(Agent.active.is_(active))
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        query = query.where(Agent.id > cursor_id(last_id))
    rows = list(await session.scalars(query.order_by(Agent.id).limit(limit + 1)))
    rows, next_cursor = split_page(rows, limit, lambda a: [a.id])
    return {"items": await agent_views(session, rows), "next_cursor": next_cursor}


@router.get("/me", summary="The agent this key belongs to", response_model=AgentOut,
            responses=problems(401, 404, 409))
async def me(session: ReadDep, principal: AgentDep) -> dict[str, Any]:
    """The caller's own agent; 409 when the key belongs to no agent."""
    return await agent_view(session, await agent_of(session, principal.agent_id))


@router.put("/me/presence", summary="Set my presence", response_model=AgentOut,
            responses=problems(401, 404, 409, 422))
async def put_presence(body: PresenceIn, core: CoreDep, session: SessionDep,
                       principal: AgentDep) -> dict[str, Any]:
    """online / away / offline. Online or away needs a live stream (/v1/events) open
    somewhere: without one the agent goes offline after the grace period."""
    agent = await agent_of(session, principal.agent_id)
    await declare_presence(core, session, agent, body.status, by="agent")
    return await agent_view(session, agent)


# `:int`: /v1/agents/me is its own resource, so PATCH /v1/agents/me is a 405, not agent "me".
@router.get("/{agent_id:int}", summary="Get an agent", response_model=AgentOut,
            responses=problems(401, 404, 422))
async def get(agent_id: IdPath, session: ReadDep, _: AgentDep) -> dict[str, Any]:
    """One agent with their teams, capacity, presence and open cases."""
    return await agent_view(session, await get_agent(session, agent_id))


@router.patch("/{agent_id:int}", summary="Update an agent", response_model=AgentOut,
              responses=problems(401, 403, 404, 409, 422))
async def patch(agent_id: IdPath, body: AgentPatch, core: CoreDep, session: SessionDep,
                principal: SupervisorDep) -> dict[str, Any]:
    """Name, e-mail, role, capacity, skills, teams, presence, or deactivate (`active`)."""
    agent = await get_agent(session, agent_id)
    fields = body.model_dump(exclude_unset=True)
    _may_manage(principal, agent.role)
    if fields.get("role"):
        _may_manage(principal, fields["role"])
    available = False
    if "email" in fields:
        agent.email = clean_email(fields["email"])
        await email_taken(session, agent.email, agent.id)
    if fields.get("name"):
        agent.name = fields["name"].strip()
    if fields.get("role"):
        agent.role = fields["role"]
    if fields.get("skills") is not None:
        agent.skills = sorted({s.strip() for s in fields["skills"] if s.strip()})
    if fields.get("capacity") is not None:
        capacity = check_capacity(core, fields["capacity"])
        available = more_room(dict(agent.capacity or {}), capacity)
        agent.capacity = capacity
    await flush_unique(session, agent.email)
    if fields.get("active") is False and agent.active:
        agent.active = False
        await declare_presence(core, session, agent, "offline", by="deactivated")
    elif fields.get("active") is True:
        agent.active = True
    if fields.get("presence") and agent.active:
        await declare_presence(core, session, agent, fields["presence"], by=principal.name)
    if fields.get("team_ids") is not None:
        await set_agent_teams(core, session, agent, fields["team_ids"])
    if available and agent.active:
        await assignment.on_agent_available(core, session, agent.id)
    await announce(core, session, agent)
    return await agent_view(session, agent)
