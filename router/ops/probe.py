"""The database figures /metrics reports, read cheaply and at most every few seconds.

Each figure is one bounded, index-backed query (a count stops at PROBE_CAP rows, the oldest
waiting row is one index lookup), and the answers are cached for PROBE_SECONDS, so however
often Prometheus (or several of them) scrapes, the database sees a handful of small reads.
The state conditions are literals: asyncpg's cached generic plan for `state = $1` cannot use
the partial indexes' selectivity (bench/NOTES.md).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from router.core import Core
from router.models import ChannelRow, InboundEvent, OutboxItem
from router.models.base import utcnow

PROBE_SECONDS = 5.0
# Counts stop here: past it an on-call engineer needs no exact figure, and the count stays
# bounded however far behind the service is.
PROBE_CAP = 100_000


class ScrapeProbe:
    def __init__(self) -> None:
        self._at = -PROBE_SECONDS
        self._lock = asyncio.Lock()

    async def refresh(self, core: Core) -> None:
        """Update the gauges if the cached figures are older than PROBE_SECONDS."""
        metrics = core.metrics
        metrics.event_clients.set(core.bus.subscriber_count)
        metrics.events_spooled.set(getattr(core.bus, "spooled", 0))
        if time.monotonic() - self._at < PROBE_SECONDS:
            return
        async with self._lock:
            if time.monotonic() - self._at < PROBE_SECONDS:
                return
            async with core.reads() as session:
                backlog, oldest_event = await _waiting(session, InboundEvent, "received")
                depth, oldest_reply = await _waiting(session, OutboxItem, "pending")
                unhealthy = await session.scalar(
                    select(func.count()).select_from(ChannelRow)
                    .where(text("health = 'unhealthy'"), ChannelRow.deleted_at.is_(None)))
            now = utcnow()
            metrics.inbound_backlog.set(backlog)
            metrics.inbound_oldest.set(_age(now, oldest_event))
            metrics.outbox_depth.set(depth)
            metrics.outbox_oldest.set(_age(now, oldest_reply))
            metrics.channels_unhealthy.set(unhealthy or 0)
            self._at = time.monotonic()


async def _waiting(session: AsyncSession, model: type[InboundEvent] | type[OutboxItem],
                   state: str) -> tuple[int, datetime | None]:
    """(rows in `state`, capped; when the oldest of them arrived) from the (state, …) index."""
    in_state = text(f"state = '{state}'")  # a constant of ours, never input
    waiting = (select(literal_column("1")).select_from(model).where(in_state)
               .limit(PROBE_CAP).subquery())
    count = await session.scalar(select(func.count()).select_from(waiting))
    stamp = InboundEvent.received_at if model is InboundEvent else OutboxItem.created_at
    oldest = await session.scalar(select(stamp).where(in_state).order_by(model.id).limit(1))
    return int(count or 0), oldest


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0
