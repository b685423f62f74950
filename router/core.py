"""The service's shared parts, built once per app in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from connectors.base import Connector
from router.access.events import stamp_scope
from router.auth.keys import KeyCache
from router.crypto import SecretBox
from router.db import SessionFactory, is_sqlite
from router.events.bus import EventBus
from router.metrics import Metrics
from router.ratelimit.limiter import Throttle
from router.settings import Settings

if TYPE_CHECKING:
    from router.agents.presence import PresenceTracker
    from router.ingest.gateway import CoreGateway
    from router.ingest.receivers import Receivers

log = logging.getLogger(__name__)

EVENTS_KEY = "omniroute.events"
OUTBOX_KEY = "omniroute.outbox"
AFTER_COMMIT_KEY = "omniroute.after_commit"
OVERFLOW_KEY = "omniroute.overflow"
# The earliest SLA timer a transaction armed (router/sla/timers.py): wakes the scheduler.
SLA_WAKE_KEY = "omniroute.sla_wake"
AFTER_COMMIT_CALLS = "omniroute.after_commit_calls"


# A reserved place in a unit's event list that was never filled (router/cases/book.py):
# dropped at commit.
UNFILLED: tuple[str, dict[str, Any]] = ("", {})


def queue_event(session: AsyncSession, type_: str, data: dict[str, Any]) -> None:
    """Publish `type_` once the session's transaction has committed (never before)."""
    session.info.setdefault(EVENTS_KEY, []).append((type_, data))


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (e.g. drop a cache)."""
    session.info.setdefault(AFTER_COMMIT_KEY, []).append(callback)


def after_commit_call(session: AsyncSession, call: Callable[[], Awaitable[Any]]) -> None:
    """Run `call()` in the background once the transaction has committed (provider calls that
    must not hold the transaction open); its failure is logged, never raised."""
    session.info.setdefault(AFTER_COMMIT_CALLS, []).append(call)


def wake_outbox(session: AsyncSession) -> None:
    """Nudge this replica's outbox worker once the session's transaction has committed."""
    session.info[OUTBOX_KEY] = True


async def _logged(call: Callable[[], Awaitable[Any]]) -> None:
    try:
        await call()
    except Exception:
        log.exception("a post-commit call failed")


@dataclass
class Core:
    settings: Settings
    secret_key: str
    engine: AsyncEngine
    sessions: SessionFactory
    reads: SessionFactory
    bus: EventBus
    connectors: dict[str, Connector]
    box: SecretBox
    metrics: Metrics
    # Wake-ups for the workers; any replica's writes also get picked up by polling.
    inbound_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # A case started waiting in a queue: the overflow timer looks for its new earliest moment.
    overflow_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    csat_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Tasks started after commits, kept so they are not collected before they finish.
    background: set[asyncio.Task[None]] = field(default_factory=set)
    started_at: float = field(default_factory=time.monotonic)
    workers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    # Wakes the workers of a separate worker process ("inbound" / "outbox"), if there is one.
    wake_elsewhere: Callable[[str], None] | None = None
    # Set right after construction by the app's lifespan (they need the core themselves).
    gateway: CoreGateway = field(init=False)
    receivers: Receivers = field(init=False)
    throttle: Throttle = field(init=False)
    presence: PresenceTracker = field(init=False)
    # Verified API keys; cleared when agents, memberships or keys change.
    key_cache: KeyCache = field(default_factory=KeyCache)
    # SQLite has one writer; queueing writers here beats SQLite's sleeping busy handler.
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Set by the lifespan when this replica runs the SLA scheduler.
    sla_wakeup: Callable[[datetime], None] | None = None

    @property
    def sqlite(self) -> bool:
        return is_sqlite(self.settings.database_url)

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        """A write transaction whose queued events are published after it commits.

        Never open a unit inside another: on SQLite the write lock is not re-entrant.
        """
        async with self.write_slot(), self.sessions() as session:
            try:
                yield session
                if session.info.get(EVENTS_KEY):
                    # Who may see each event is read at the end: routing may have moved
                    # the thread after the event was queued (router/access/events.py).
                    await stamp_scope(session, session.info[EVENTS_KEY])
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            events = session.info.pop(EVENTS_KEY, None)
            if events:
                events = [event for event in events if event is not UNFILLED]
            wake = session.info.pop(OUTBOX_KEY, False)
            callbacks = session.info.pop(AFTER_COMMIT_KEY, ())
            calls = session.info.pop(AFTER_COMMIT_CALLS, ())
            overflow = session.info.pop(OVERFLOW_KEY, False)
            sla_due = session.info.pop(SLA_WAKE_KEY, None)
        for callback in callbacks:
            callback()
        for call in calls:
            task = asyncio.create_task(_logged(call))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        if sla_due is not None and self.sla_wakeup is not None:
            self.sla_wakeup(sla_due)
        if wake:
            self.outbox_wakeup.set()
            if self.wake_elsewhere is not None:
                self.wake_elsewhere("outbox")
        if overflow:
            self.overflow_wakeup.set()
        if events:
            await self.bus.publish(events)

    @asynccontextmanager
    async def write_slot(self) -> AsyncIterator[None]:
        if self.sqlite:
            async with self.write_lock:
                yield
        else:
            yield

    def gateway_cache_drop(self, channel_id: str) -> None:
        self.gateway.cache.drop(channel_id)

    def connector(self, channel_type: str) -> Connector:
        return self.connectors[channel_type]
