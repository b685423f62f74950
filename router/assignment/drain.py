"""Emptying queues the moment capacity frees: an agent resolves, transfers, comes online,
gets more capacity or joins a team. Never a periodic sweep.

The queue order is priority, then SLA due time (none: last), then waiting time. Queued
cases are claimed with SKIP LOCKED on PostgreSQL, so two transactions draining the same
queue never take one case twice; the agent is locked before they are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment.capacity import available, loads, lock_agents, note_assigned
from router.assignment.placement import Ask, roster
from router.cases.state import assigned, synced
from router.models import Case, Team, TeamMember

QUEUE_ORDER = (Case.priority_rank, Case.sla_due_at.asc().nulls_last(), Case.queued_at, Case.id)
# Queued cases looked at per round; a drain goes round again while it keeps assigning.
HEADS = 50


async def queue_heads(session: AsyncSession, team_ids: Sequence[int], limit: int) -> list[Case]:
    """The first waiting cases of these teams' queues, locked (others' locked ones skipped)."""
    if not team_ids:
        return []
    await session.flush()  # a fresh read must not overwrite this session's own changes
    rows = await session.scalars(
        select(Case).where(Case.team_id.in_(sorted(team_ids)), Case.queued_at.is_not(None),
                           Case.assignee_id.is_(None))
        .order_by(*QUEUE_ORDER).limit(limit)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    return list(rows)


async def agent_teams(session: AsyncSession, agent_id: int, *, pushed_only: bool) -> list[int]:
    """The agent's teams (only those that push cases to agents, when `pushed_only`)."""
    query = select(Team.id).join(TeamMember, TeamMember.team_id == Team.id).where(
        TeamMember.agent_id == agent_id)
    if pushed_only:
        query = query.where(Team.strategy != "manual")
    return sorted(await session.scalars(query))


async def drain_for_agent(session: AsyncSession, agent_id: int, now: datetime, *,
                          pushed_only: bool = True, at_most: int | None = None) -> list[Case]:
    """Give this agent queued cases of their teams while they have room; returns them."""
    team_ids = await agent_teams(session, agent_id, pushed_only=pushed_only)
    if not team_ids:
        return []
    locked = await lock_agents(session, [agent_id])
    if not locked or not available(locked[0]):
        return []
    load = (await loads(session, locked))[agent_id]
    taken: list[Case] = []
    while at_most is None or len(taken) < at_most:
        heads = await queue_heads(session, team_ids, HEADS)
        progress = False
        for case in heads:
            if at_most is not None and len(taken) >= at_most:
                break
            if not load.room(case.channel_type):
                continue
            load.take(case.channel_type, now)
            assigned(session, case, agent_id, now)
            await synced(session, case)
            taken.append(case)
            progress = True
        if not progress or len(heads) < HEADS:
            break
        await session.flush()
    if taken:
        await note_assigned(session, {agent_id: now})
    return taken


async def drain_team(session: AsyncSession, team_id: int, now: datetime) -> list[Case]:
    """Place the team's queued cases with whoever in it has room now (its strategy)."""
    taken: list[Case] = []
    found = await roster(session, [team_id])
    team = found.teams.get(team_id)
    if team is None or team.strategy == "manual":
        return taken
    while True:
        heads = await queue_heads(session, [team_id], HEADS)
        progress = False
        for case in heads:
            chosen = found.pick(Ask(team_id, case.channel_type), now)
            if chosen is None:
                continue
            assigned(session, case, chosen, now)
            await synced(session, case)
            taken.append(case)
            progress = True
        await found.save(session)
        if not progress or len(heads) < HEADS:
            return taken
        await session.flush()
