"""Choosing an agent for cases: the team's strategy, stickiness, capacity and presence.

A `roster` answers for many cases at once (an inbound batch's new cases): it locks the
teams and every member of them in id order (PostgreSQL; SQLite has one writer), counts what
each holds with one grouped query, and decides in memory, keeping the counts current as it
goes, so nobody is given more than their capacity and no two transactions both see the same
room; `save` then stores the agents' last-assigned times in one statement.
Members are locked whatever their presence: an agent coming online in another transaction
is then waited for and seen, never skipped by one and drained past by the other.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from heapq import heapify, heappop, heapreplace
from itertools import chain

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.assignment.capacity import Load, available, loads, lock_agents, note_assigned
from router.models import Team, TeamMember

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Rank = tuple[float, datetime, int]
# Built once: an inbound batch that routes asks these every time.
LOCK_TEAMS = (select(Team).where(Team.id.in_(bindparam("ids", expanding=True)))
              .order_by(Team.id).with_for_update().execution_options(populate_existing=True))
MEMBERS = (select(TeamMember.team_id, TeamMember.agent_id)
           .where(TeamMember.team_id.in_(bindparam("ids", expanding=True)))
           .order_by(TeamMember.agent_id))


@dataclass(frozen=True)
class Ask:
    """One case to place: its team, channel type, and an agent to prefer if they can."""

    team_id: int | None
    channel_type: str | None
    prefer: int | None = None
    # The preferred agent must belong to the team (stickiness) or may be anyone (a rule).
    prefer_member_only: bool = True
    # Prefer only when the team is sticky (the customer's previous agent on a new case).
    sticky_only: bool = False
    exclude: int | None = None


@dataclass
class Roster:
    """The locked teams, their members and everyone's load, for one transaction."""

    teams: dict[int, Team]
    members: dict[int, list[int]]
    load: dict[int, Load]
    # Agents given a case by this roster: their idle time is stored by `save`.
    taken: dict[int, datetime] = field(default_factory=dict)
    _heaps: dict[tuple[int, str | None], list[Rank]] = field(default_factory=dict)

    def can_take(self, agent_id: int | None, channel_type: str | None) -> bool:
        found = self.load.get(agent_id) if agent_id is not None else None
        return found is not None and available(found.agent) and found.room(channel_type)

    def pick(self, ask: Ask, now: datetime) -> int | None:
        chosen = self._pick(ask)
        if chosen is not None:
            self.load[chosen].take(ask.channel_type, now)
            self.taken[chosen] = now
            team = self.teams.get(ask.team_id) if ask.team_id is not None else None
            if team is not None:
                team.last_agent_id = chosen
        return chosen

    def _pick(self, ask: Ask) -> int | None:
        team = self.teams.get(ask.team_id) if ask.team_id is not None else None
        members = self.members.get(ask.team_id, []) if ask.team_id is not None else []
        prefer = ask.prefer
        if ask.sticky_only and (team is None or not team.sticky):
            prefer = None
        if prefer is not None and prefer != ask.exclude and (
                not ask.prefer_member_only or prefer in members) and (
                self.can_take(prefer, ask.channel_type)):
            return prefer
        if team is None or team.strategy == "manual":
            return None
        if team.strategy == "least_loaded":
            return self._least_loaded(team.id, members, ask)
        # round_robin: the first member after the last one served who can take it, wrapping
        # around (members are in id order; usually the first one looked at).
        start = bisect_right(members, team.last_agent_id or 0)
        for m in chain(members[start:], members[:start]):
            if m != ask.exclude and self.can_take(m, ask.channel_type):
                return m
        return None

    def _rank(self, agent_id: int, channel_type: str | None) -> Rank | None:
        """Least-loaded order: share of capacity, then longest idle, then id (None: no room)."""
        load = self.load.get(agent_id)
        if load is None or not available(load.agent):
            return None
        share = load.share(channel_type)
        if share is None:
            return None
        return (share, load.agent.last_assigned_at or EPOCH, agent_id)

    def _least_loaded(self, team_id: int, members: list[int], ask: Ask) -> int | None:
        if ask.exclude is not None:  # a release or transfer: one case, look at everyone
            ranks = [r for m in members if m != ask.exclude
                     and (r := self._rank(m, ask.channel_type)) is not None]
            return min(ranks)[2] if ranks else None
        # A batch places many cases in one team: a heap per team and channel type. Within
        # one roster a rank only grows (loads and idle times only go up), so an entry is
        # at most stale-low: the top is re-ranked before it is trusted.
        key = (team_id, ask.channel_type)
        heap = self._heaps.get(key)
        if heap is None:
            heap = [r for m in members if (r := self._rank(m, ask.channel_type)) is not None]
            heapify(heap)
            self._heaps[key] = heap
        while heap:
            top = heap[0]
            now = self._rank(top[2], ask.channel_type)
            if now == top:
                return top[2]
            if now is None:
                heappop(heap)
            else:
                heapreplace(heap, now)
        return None

    async def save(self, session: AsyncSession) -> None:
        """Store what picking changed on the agents (the teams are ORM rows: flushed)."""
        taken, self.taken = self.taken, {}
        await note_assigned(session, taken)


async def roster(session: AsyncSession, team_ids: Sequence[int],
                 extra_agents: Sequence[int] = ()) -> Roster:
    """Lock the teams and their members (plus `extra_agents`) and count their load."""
    wanted = sorted(set(team_ids))
    teams: dict[int, Team] = {}
    members: dict[int, list[int]] = {}
    if wanted:
        await session.flush()  # a fresh read must not overwrite this session's own changes
        found = await session.scalars(LOCK_TEAMS, {"ids": wanted})
        teams = {team.id: team for team in found}
        rows = await session.execute(MEMBERS, {"ids": wanted})
        for team_id, agent_id in rows:
            members.setdefault(team_id, []).append(agent_id)
    agent_ids = {a for ids in members.values() for a in ids} | set(extra_agents)
    agents = await lock_agents(session, agent_ids)
    return Roster(teams=teams, members=members, load=await loads(session, agents))

