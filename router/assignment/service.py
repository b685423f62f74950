"""The assignment engine's entry points: capacity freed or taken away, teams changed,
agents pulling work, and transfers between agents and teams (escalation to line 2).

The agents domain calls `on_agent_available` / `on_agent_unavailable` / `on_team_changed`
in the transaction that changed presence, capacity or membership, so the agent's row is
already locked by that change and a concurrent placement waits for it and sees it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment.capacity import available, loads, lock_agents, note_assigned
from router.assignment.drain import drain_for_agent, drain_team
from router.assignment.placement import Ask, roster
from router.cases.counts import refresh_counts
from router.cases.state import placed, record, synced, wake_overflow
from router.cases.views import case_event
from router.core import Core, queue_event
from router.errors import Conflict, NotFound, Unprocessable
from router.models import Agent, Case, Team, TeamMember, Thread
from router.models.base import utcnow

# Released cases are re-placed most urgent and oldest first.
_QUEUE_ORDER = (Case.priority_rank, Case.opened_at, Case.id)


async def on_agent_available(core: Core, session: AsyncSession, agent_id: int) -> None:
    """The agent may take more now (online, more capacity, a case resolved or handed on)."""
    await drain_for_agent(session, agent_id, utcnow())


async def on_agent_unavailable(core: Core, session: AsyncSession, agent_id: int) -> None:
    """The agent went away or offline: teams that release cases put theirs back to work."""
    await session.flush()  # the presence change first: the reads below are fresh
    now = utcnow()
    releasing = list(await session.scalars(
        select(Team.id).join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.agent_id == agent_id, Team.release_on_offline.is_(True))))
    if not releasing:
        return
    cases = list(await session.scalars(
        select(Case).where(Case.assignee_id == agent_id, Case.status == "open",
                           Case.team_id.in_(releasing)).order_by(*_QUEUE_ORDER)
        .with_for_update().execution_options(populate_existing=True)))
    if not cases:
        return
    for case in cases:
        record(session, case.id, "released", now, data={"agent_id": agent_id})
    found = await roster(session, releasing)
    for case in cases:
        chosen = found.pick(Ask(case.team_id, case.channel_type, exclude=agent_id), now)
        placed(session, case, chosen, now)
        await synced(session, case)
    await found.save(session)


async def on_team_changed(core: Core, session: AsyncSession, team_id: int) -> None:
    """Members, strategy or overflow changed: place what waits, re-arm the overflow timer."""
    await session.flush()
    await drain_team(session, team_id, utcnow())
    wake_overflow(session)


async def pull_next(core: Core, session: AsyncSession, agent_id: int) -> Case | None:
    """The head of the agent's teams' queues that fits their capacity (manual teams too)."""
    agent = await session.get(Agent, agent_id)
    if agent is None or not agent.active:
        raise NotFound(f"agent {agent_id} does not exist")
    if agent.presence != "online":
        raise Conflict(f"agent {agent_id} is {agent.presence}; go online to take cases")
    taken = await drain_for_agent(session, agent_id, utcnow(), pushed_only=False, at_most=1)
    return taken[0] if taken else None


async def transfer(core: Core, session: AsyncSession, thread: Thread, *, team_id: int | None,
                   agent_id: int | None, reason: str, actor: str) -> Case:
    """Hand the thread's current case to another team and/or agent; history and clock stay."""
    case = await session.get(Case, thread.case_id, with_for_update=True,
                             populate_existing=True) if thread.case_id else None
    if case is None or case.status == "resolved":
        raise Conflict(f"thread {thread.id} has no case in progress to transfer")
    if team_id is None and agent_id is None:
        raise Unprocessable("say where to: team_id, agent_id or both",
                            extra={"errors": [{"field": "team_id", "message": "missing"}]})
    now = utcnow()
    await refresh_counts(session, case, thread)
    before = {"team_id": case.team_id, "agent_id": case.assignee_id}
    target_team = team_id if team_id is not None else case.team_id
    if team_id is not None and await session.get(Team, team_id) is None:
        raise Unprocessable(f"team {team_id} does not exist",
                            extra={"errors": [{"field": "team_id", "message": "unknown"}]})
    freed = case.assignee_id
    if agent_id is not None:
        locked = await lock_agents(session, [agent_id])
        if not locked or not locked[0].active:
            raise Unprocessable(f"agent {agent_id} does not exist",
                                extra={"errors": [{"field": "agent_id", "message": "unknown"}]})
        load = (await loads(session, locked))[agent_id]
        if agent_id != case.assignee_id:
            if not available(locked[0]):
                raise Conflict(f"agent {agent_id} is {locked[0].presence}; they cannot take "
                               "cases now (transfer to their team to queue it)")
            if not load.room(case.channel_type):
                raise Conflict(f"agent {agent_id} is at capacity for "
                               f"{case.channel_type or 'default'} cases")
            load.take(case.channel_type, now)
            await note_assigned(session, {agent_id: now})
        case.team_id = target_team
        chosen: int | None = agent_id
    else:
        case.team_id = target_team
        found = await roster(session, [target_team] if target_team is not None else [])
        chosen = found.pick(Ask(target_team, case.channel_type, exclude=freed), now)
        await found.save(session)
    case.queued_at = None
    after = {"team_id": case.team_id, "agent_id": chosen}
    record(session, case.id, "transferred", now, actor=actor, reason=reason,
           data={"from": before, "to": after})
    queue_event(session, "case.transferred",
                case_event(case, from_team_id=before["team_id"],
                           from_assignee_id=before["agent_id"], reason=reason))
    if chosen != freed or chosen is None:
        placed(session, case, chosen, now)
    await synced(session, case)
    await session.flush()
    if freed is not None and freed != chosen:
        await drain_for_agent(session, freed, now)
    return case



async def on_sla_transfer(session: AsyncSession, case: Case, team_id: int) -> None:
    """An SLA breach moved the case to `team_id` (queued, unassigned): give it to whoever
    in that team has room now by its strategy, else it waits at its place in the queue."""
    now = utcnow()
    found = await roster(session, [team_id])
    team = found.teams.get(team_id)
    chosen = None
    if team is not None and team.strategy != "manual":
        chosen = found.pick(Ask(team_id, case.channel_type), now)
        await found.save(session)
    placed(session, case, chosen, now)
    await synced(session, case)
