"""Who can take a case: presence, capacity per channel type, and the load they hold now.

Capacity is `{"default": N, "<channel type>": N}`. A channel type named in it is its own
pool; every other type shares the "default" pool. Held cases are the agent's open and
pending cases (pending still needs them: the customer is expected back).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from router.cases.views import HELD
from router.models import Agent, Case

# An agent whose capacity names neither the channel type nor "default" (Front and Help Scout
# default to about this many conversations).
FALLBACK_CAPACITY = 100


# Built once: an inbound batch that routes asks these every time.
LOCK_AGENTS = (select(Agent).where(Agent.id.in_(bindparam("ids", expanding=True)))
               .order_by(Agent.id).with_for_update()
               .execution_options(populate_existing=True))
HELD_COUNTS = (select(Case.assignee_id, Case.channel_type, func.count())
               .where(Case.assignee_id.in_(bindparam("ids", expanding=True)),
                      Case.status.in_(HELD))
               .group_by(Case.assignee_id, Case.channel_type))


def pool(capacity: dict[str, int], channel_type: str | None) -> str:
    return channel_type if channel_type is not None and channel_type in capacity else "default"


def limit(capacity: dict[str, int], channel_type: str | None) -> int:
    return int(capacity.get(pool(capacity, channel_type), FALLBACK_CAPACITY))


def available(agent: Agent) -> bool:
    """Only someone online (not away, not offline) and active is given cases."""
    return agent.active and agent.presence == "online"


@dataclass
class Load:
    """One agent's held cases by channel type, kept current as a transaction assigns."""

    agent: Agent
    by_type: dict[str | None, int] = field(default_factory=dict)

    def held(self, channel_type: str | None) -> int:
        capacity = self.agent.capacity or {}
        name = pool(capacity, channel_type)
        if name != "default":
            return self.by_type.get(name, 0)
        return sum(n for kind, n in self.by_type.items() if pool(capacity, kind) == "default")

    def room(self, channel_type: str | None) -> bool:
        return self.held(channel_type) < limit(self.agent.capacity or {}, channel_type)

    def ratio(self, channel_type: str | None) -> float:
        cap = limit(self.agent.capacity or {}, channel_type)
        return self.held(channel_type) / cap if cap > 0 else float("inf")

    def take(self, channel_type: str | None, now: datetime) -> None:
        self.by_type[channel_type] = self.by_type.get(channel_type, 0) + 1
        self.agent.last_assigned_at = now


async def lock_agents(session: AsyncSession, agent_ids: Collection[int]) -> list[Agent]:
    """The agents, row-locked in id order on PostgreSQL (two replicas counting the same
    agent wait for each other instead of both seeing room), fresh from the database."""
    if not agent_ids:
        return []
    await session.flush()  # a fresh read must not overwrite this session's own changes
    rows = await session.scalars(LOCK_AGENTS, {"ids": sorted(agent_ids)})
    return list(rows)


async def loads(session: AsyncSession, agents: Collection[Agent]) -> dict[int, Load]:
    """Each agent's held cases per channel type: one grouped query on the assignee index."""
    out = {agent.id: Load(agent) for agent in agents}
    if not out:
        return out
    rows = await session.execute(HELD_COUNTS, {"ids": sorted(out)})
    for agent_id, channel_type, count in rows:
        if agent_id is not None:
            out[agent_id].by_type[channel_type] = int(count)
    return out
