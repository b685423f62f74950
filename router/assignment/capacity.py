"""Who can take a case: presence, capacity per channel type, and the load they hold now.

Capacity is `{"default": N, "<channel type>": N}`. A channel type named in it is its own
pool; every other type shares the "default" pool. Held cases are the agent's open and
pending cases (pending still needs them: the customer is expected back).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from router.cases.views import HELD
from router.models import Agent, Case
from router.models.base import UTCDateTime

# An agent whose capacity names neither the channel type nor "default" (Front and Help Scout
# default to about this many conversations).
FALLBACK_CAPACITY = 100


AGENTS: Table = Agent.__table__  # type: ignore[assignment]
# Built once: an inbound batch that routes asks these every time. Plain columns, not ORM
# agents: a batch reads every member of its teams, and building 60 tracked objects cost
# more than the rest of the placement.
LOCK_SEATS = (select(AGENTS.c.id, AGENTS.c.active, AGENTS.c.presence, AGENTS.c.capacity,
                     AGENTS.c.last_assigned_at)
              .where(AGENTS.c.id.in_(bindparam("ids", expanding=True)))
              .order_by(AGENTS.c.id).with_for_update())
NOTE_ASSIGNED = (update(AGENTS).where(AGENTS.c.id == bindparam("b_id"))
                 .values(last_assigned_at=bindparam("b_at", type_=UTCDateTime())))
HELD_COUNTS = (select(Case.assignee_id, Case.channel_type, func.count())
               .where(Case.assignee_id.in_(bindparam("ids", expanding=True)),
                      Case.status.in_(HELD))
               .group_by(Case.assignee_id, Case.channel_type))


def pool(capacity: dict[str, int], channel_type: str | None) -> str:
    return channel_type if channel_type is not None and channel_type in capacity else "default"


@dataclass
class Seat:
    """An agent as placement reads them, locked for the transaction."""

    id: int
    active: bool
    presence: str
    capacity: dict[str, int]
    last_assigned_at: datetime | None


def available(agent: Seat) -> bool:
    """Only someone online (not away, not offline) and active is given cases."""
    return agent.active and agent.presence == "online"


@dataclass
class Load:
    """One agent's held cases per capacity pool, kept current as a transaction assigns."""

    agent: Seat
    # Held cases per pool (a channel type named in the capacity, or "default"): a batch
    # asks every member of a least-loaded team about every case, so each answer is a lookup.
    pools: dict[str, int] = field(default_factory=dict)

    def count(self, channel_type: str | None, n: int) -> None:
        name = pool(self.agent.capacity, channel_type)
        self.pools[name] = self.pools.get(name, 0) + n

    def room(self, channel_type: str | None) -> bool:
        return self.share(channel_type) is not None

    def share(self, channel_type: str | None) -> float | None:
        """How full the agent's pool is (held ÷ capacity), None when it has no room."""
        name = pool(self.agent.capacity, channel_type)
        cap = int(self.agent.capacity.get(name, FALLBACK_CAPACITY))
        held = self.pools.get(name, 0)
        return held / cap if held < cap else None

    def take(self, channel_type: str | None, now: datetime) -> None:
        self.count(channel_type, 1)
        self.agent.last_assigned_at = now


async def lock_agents(session: AsyncSession, agent_ids: Collection[int]) -> list[Seat]:
    """The agents, row-locked in id order on PostgreSQL (two replicas counting the same
    agent wait for each other instead of both seeing room), fresh from the database."""
    if not agent_ids:
        return []
    await session.flush()  # read this session's own changes (a presence just set)
    rows = await session.execute(LOCK_SEATS, {"ids": sorted(agent_ids)})
    return [Seat(id_, bool(active), presence, capacity or {}, last)
            for id_, active, presence, capacity, last in rows]


async def note_assigned(session: AsyncSession, taken: Mapping[int, datetime]) -> None:
    """Store when each agent was last given a case (least-loaded ties go to the longest
    idle): one statement for a whole placement, on rows the placement has locked."""
    if taken:
        await session.execute(NOTE_ASSIGNED, [{"b_id": agent_id, "b_at": at}
                                              for agent_id, at in sorted(taken.items())])


async def loads(session: AsyncSession, agents: Collection[Seat]) -> dict[int, Load]:
    """Each agent's held cases per channel type: one grouped query on the assignee index."""
    out = {agent.id: Load(agent) for agent in agents}
    if not out:
        return out
    rows = await session.execute(HELD_COUNTS, {"ids": sorted(out)})
    for agent_id, channel_type, count in rows:
        if agent_id is not None:
            out[agent_id].count(channel_type, int(count))
    return out
