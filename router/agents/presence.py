"""Presence implied by live streams, shared by every replica through the agents table.

Each replica counts its own agent-bound streams in memory and writes only the transitions
(an agent's first stream here opened, their last one here closed) to `agent_streams`, one
row per (replica, agent), from one background task, so opening a stream never waits for the
database. Its beat refreshes its rows; rows of a replica that stopped beating are someone
else's to reap.

When an agent's last stream anywhere closes, the agent gets a due time (`offline_due_at`,
now + OMNIROUTE_PRESENCE_GRACE_SECONDS). The replica that set it wakes at that moment; every
replica also looks, at its beat, for due agents (an indexed range, not a sweep of agents),
so a due time survives the replica that set it and restarts. Firing checks again that no
live stream exists anywhere: a stream that opened meanwhile on another replica wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from router.agents.service import set_presence
from router.core import Core
from router.models import Agent, AgentStream
from router.models.base import utcnow

log = logging.getLogger("omniroute.presence")
# How often a replica refreshes its stream rows and looks for due agents.
BEAT_SECONDS = 5.0
# A row not refreshed for this long belongs to a replica that stopped without saying so.
STALE_SECONDS = 30.0
DUE_BATCH = 100


class PresenceTracker:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.replica = secrets.token_hex(8)
        self.local: dict[int, int] = {}
        self.beat_seconds = BEAT_SECONDS
        self.stale_seconds = STALE_SECONDS
        self._changed: set[int] = set()
        self._wake = asyncio.Event()
        self._next_due: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    # Called by the streams (router/access/viewer.py): no I/O, no await.
    def opened(self, agent_id: int) -> None:
        count = self.local.get(agent_id, 0) + 1
        self.local[agent_id] = count
        if count == 1:
            self._changed.add(agent_id)
            self._wake.set()

    def closed(self, agent_id: int) -> None:
        count = self.local.get(agent_id, 0) - 1
        if count > 0:
            self.local[agent_id] = count
            return
        self.local.pop(agent_id, None)
        self._changed.add(agent_id)
        self._wake.set()

    def note_due(self, at: datetime) -> None:
        """Wake at `at` (a due time this replica has just committed, or learnt of)."""
        if self._next_due is None or at < self._next_due:
            self._next_due = at
            self._wake.set()

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.core.settings.presence_grace_seconds)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="omniroute-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        # Say so instead of going stale: the grace timers of this replica's agents start now.
        self._changed.update(self.local)
        self.local.clear()
        with contextlib.suppress(Exception):
            await self._write_changes()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_beat = loop.time()
        while True:
            waits = [next_beat - loop.time()]
            if self._next_due is not None:
                waits.append((self._next_due - utcnow()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, min(waits)))
            self._wake.clear()
            try:
                if self._changed:
                    await self._write_changes()
                if loop.time() >= next_beat:
                    await self._beat()
                    next_beat = loop.time() + self.beat_seconds
                if self._next_due is not None and self._next_due <= utcnow():
                    await self._fire_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("presence: could not update agent presence; retrying",
                            exc_info=True)
                await asyncio.sleep(1.0)

    async def _write_changes(self) -> None:
        changed, self._changed = self._changed, set()
        try:
            async with self.core.unit() as session:
                for agent_id in sorted(changed):
                    await self._write_one(session, agent_id)
        except BaseException:
            self._changed |= changed  # tried again on the next wake-up
            raise

    async def _write_one(self, session: AsyncSession, agent_id: int) -> None:
        now = utcnow()
        agent = await lock_agent(self.core, session, agent_id)
        row = await session.get(AgentStream, (self.replica, agent_id))
        streams = self.local.get(agent_id, 0)
        if agent is None:
            return
        if streams > 0:
            if row is None:
                session.add(AgentStream(replica=self.replica, agent_id=agent_id,
                                        streams=streams, beat_at=now))
            else:
                row.streams, row.beat_at = streams, now
            agent.offline_due_at = None
            if agent.presence == "offline" and agent.active:
                await set_presence(self.core, session, agent, "online", by="stream")
            return
        if row is not None:
            await session.delete(row)
            await session.flush()
        if agent.presence != "offline" and not await self.live_anywhere(session, agent_id, now):
            agent.offline_due_at = now + self.grace
            self.note_due(agent.offline_due_at)

    async def live_anywhere(self, session: AsyncSession, agent_id: int,
                            now: datetime | None = None) -> bool:
        """Whether the agent has a live stream on this replica or a fresh row elsewhere."""
        if self.local.get(agent_id):
            return True
        fresh = (now or utcnow()) - timedelta(seconds=self.stale_seconds)
        found = await session.scalar(
            select(AgentStream.agent_id).where(
                AgentStream.agent_id == agent_id, AgentStream.beat_at >= fresh,
                AgentStream.replica != self.replica, AgentStream.streams > 0).limit(1))
        return found is not None

    async def _beat(self) -> None:
        """Refresh this replica's rows, reap a dead replica's, learn the next due time.

        A replica with no agent streams and nothing to reap only reads (SQLite's write lock
        is not taken every few seconds for nothing)."""
        now = utcnow()
        stale_before = now - timedelta(seconds=self.stale_seconds)
        async with self.core.reads() as session:
            stale_any = await session.scalar(select(AgentStream.agent_id).where(
                AgentStream.beat_at < stale_before, AgentStream.replica != self.replica).limit(1))
            earliest = await session.scalar(select(func.min(Agent.offline_due_at)))
        if self.local or stale_any is not None:
            async with self.core.unit() as session:
                if self.local:
                    await session.execute(update(AgentStream)
                                          .where(AgentStream.replica == self.replica)
                                          .values(beat_at=now))
                await self._reap(session, now, stale_before)
                earliest = await session.scalar(select(func.min(Agent.offline_due_at)))
        if earliest is not None:
            self.note_due(earliest)

    async def _reap(self, session: AsyncSession, now: datetime, stale_before: datetime) -> None:
        stale = list(await session.execute(
            select(AgentStream.replica, AgentStream.agent_id, AgentStream.beat_at)
            .where(AgentStream.beat_at < stale_before, AgentStream.replica != self.replica)
            .order_by(AgentStream.agent_id)))
        for replica, agent_id, beat_at in stale:
            await session.execute(delete(AgentStream).where(
                AgentStream.replica == replica, AgentStream.agent_id == agent_id))
            agent = await lock_agent(self.core, session, agent_id)
            if (agent is None or agent.presence == "offline"
                    or agent.offline_due_at is not None
                    or await self.live_anywhere(session, agent_id, now)):
                continue
            # Its streams died with that replica, around its last beat.
            agent.offline_due_at = beat_at + self.grace

    async def _fire_due(self) -> None:
        self._next_due = None
        async with self.core.unit() as session:
            now = utcnow()
            query = (select(Agent).where(Agent.offline_due_at <= now)
                     .order_by(Agent.offline_due_at, Agent.id).limit(DUE_BATCH))
            if not self.core.sqlite:
                # Two replicas firing at once each take different agents.
                query = query.with_for_update(skip_locked=True)
            for agent in list(await session.scalars(query)):
                agent.offline_due_at = None
                if agent.presence != "offline" and not await self.live_anywhere(
                        session, agent.id, now):
                    await set_presence(self.core, session, agent, "offline", by="grace")
            earliest = await session.scalar(select(func.min(Agent.offline_due_at)))
        if earliest is not None:
            # Not sooner than shortly: what is due still is locked by another replica firing it.
            self.note_due(max(earliest, utcnow() + timedelta(seconds=0.2)))


async def lock_agent(core: Core, session: AsyncSession, agent_id: int) -> Agent | None:
    """The agent row, locked on PostgreSQL (presence changes of one agent take turns)."""
    query = select(Agent).where(Agent.id == agent_id).execution_options(populate_existing=True)
    if not core.sqlite:
        query = query.with_for_update()
    agent: Agent | None = await session.scalar(query)
    return agent

