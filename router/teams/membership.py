"""Who belongs to which team: one way to change it, from either side (agent or team).

Every change tells the assignment engine (a member who joined may take the team's queue; one
who left may have cases to give back), announces each affected agent (their open streams
follow their teams from `agent.updated`) and makes every key be read again.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.agents.service import announce
from router.assignment import service as assignment
from router.core import Core
from router.errors import Unprocessable
from router.models import Agent, Team, TeamMember


async def live_team_ids(session: AsyncSession, team_ids: Iterable[int], field: str) -> set[int]:
    wanted = set(team_ids)
    found = set(await session.scalars(
        select(Team.id).where(Team.id.in_(sorted(wanted)), Team.deleted_at.is_(None))))
    missing = sorted(wanted - found)
    if missing:
        raise Unprocessable(f"no such team: {', '.join(map(str, missing))}", extra={
            "errors": [{"field": field, "message": f"team {m} does not exist"}
                       for m in missing]})
    return found


async def existing_agent_ids(session: AsyncSession, agent_ids: Iterable[int],
                             field: str) -> set[int]:
    wanted = set(agent_ids)
    found = set(await session.scalars(select(Agent.id).where(Agent.id.in_(sorted(wanted)))))
    missing = sorted(wanted - found)
    if missing:
        raise Unprocessable(f"no such agent: {', '.join(map(str, missing))}", extra={
            "errors": [{"field": field, "message": f"agent {m} does not exist"}
                       for m in missing]})
    return found


async def change(core: Core, session: AsyncSession, join: set[tuple[int, int]],
                 leave: set[tuple[int, int]], *, changed_teams: Iterable[int] = ()) -> None:
    """Add the (team, agent) pairs in `join`, remove those in `leave`, then tell everyone."""
    for team_id, agent_id in sorted(leave):
        await session.execute(delete(TeamMember).where(TeamMember.team_id == team_id,
                                                       TeamMember.agent_id == agent_id))
    for team_id, agent_id in sorted(join):
        session.add(TeamMember(team_id=team_id, agent_id=agent_id))
    await session.flush()
    agents = sorted({a for _t, a in join | leave})
    for agent_id in agents:
        agent = await session.get(Agent, agent_id)
        if agent is not None:
            await announce(core, session, agent)
    for agent_id in sorted({a for _t, a in leave}):
        await assignment.on_agent_unavailable(core, session, agent_id)
    for agent_id in sorted({a for _t, a in join}):
        await assignment.on_agent_available(core, session, agent_id)
    for team_id in sorted({t for t, _a in join | leave} | set(changed_teams)):
        await assignment.on_team_changed(core, session, team_id)


async def teams_of(session: AsyncSession, agent_id: int) -> set[int]:
    return set(await session.scalars(
        select(TeamMember.team_id).where(TeamMember.agent_id == agent_id)))


async def members_of(session: AsyncSession, team_id: int) -> set[int]:
    return set(await session.scalars(
        select(TeamMember.agent_id).where(TeamMember.team_id == team_id)))


async def set_agent_teams(core: Core, session: AsyncSession, agent: Agent,
                          team_ids: Iterable[int]) -> None:
    wanted = await live_team_ids(session, team_ids, "team_ids")
    current = await teams_of(session, agent.id)
    await change(core, session, {(t, agent.id) for t in wanted - current},
                 {(t, agent.id) for t in current - wanted})


async def set_team_members(core: Core, session: AsyncSession, team: Team,
                           agent_ids: Iterable[int], *, changed: bool = False) -> None:
    wanted = await existing_agent_ids(session, agent_ids, "member_ids")
    current = await members_of(session, team.id)
    join = {(team.id, a) for a in wanted - current}
    leave = {(team.id, a) for a in current - wanted}
    if join or leave or changed:
        await change(core, session, join, leave, changed_teams=[team.id] if changed else [])
