"""One SLA scheduler per replica: sleeps until the earliest unfired timer, then fires it.

Nothing scans open cases: the only query at rest is the earliest unfired `due_at` (one index
probe). A transaction that arms an earlier moment wakes this replica's scheduler after its
commit (Core.sla_wakeup) and, with Redis configured, every other replica's through pub/sub;
without Redis the others re-read the earliest moment every `poll_seconds`, so a timer armed
on a replica that then died still fires. Moments passed while the service was down are due
at start-up and fire at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from router.core import Core
from router.models.base import utcnow
from router.models.sla import SlaTimer
from router.sla.actions import TransferHook
from router.sla.firing import CLAIM_SIZE, fire_due

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger("omniroute.sla")
POLL_SECONDS = 5.0
POLL_SECONDS_WITH_REDIS = 60.0
RETRY_SECONDS = 1.0
BUSY_SECONDS = 0.05


class SlaScheduler:
    def __init__(self, core: Core, *, on_transfer: TransferHook | None = None,
                 poll_seconds: float | None = None) -> None:
        self.core = core
        # Where the lead wires the assignment engine: called in the breach's transaction
        # after an on_breach transfer moved the case to another team's queue.
        self.on_transfer = on_transfer
        redis_url = core.settings.redis_url
        self.poll_seconds = poll_seconds or (POLL_SECONDS_WITH_REDIS if redis_url
                                             else POLL_SECONDS)
        self.channel = f"{core.settings.redis_stream}:sla-wake"
        self._event = asyncio.Event()
        self._sleeping_until: datetime | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Publishing wake-ups: also on API-only replicas, whose commits arm timers too.
        self._publisher: aioredis.Redis | None = None

    def wake(self, at: datetime) -> None:
        """A timer at `at` was armed and committed: wake up if it is earlier than planned."""
        if self._sleeping_until is None or at < self._sleeping_until:
            self._event.set()
        if self.core.settings.redis_url:
            task = asyncio.get_running_loop().create_task(self._publish(at))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def earliest(self) -> datetime | None:
        async with self.core.reads() as session:
            value: datetime | None = await session.scalar(
                select(func.min(SlaTimer.due_at)).where(SlaTimer.fired_at.is_(None)))
        return value

    async def run(self) -> None:
        listener = None
        if self.core.settings.redis_url:
            listener = asyncio.create_task(self._listen(), name="omniroute-sla-wake")
        try:
            while True:
                try:
                    await self._step()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("SLA scheduler step failed; retrying")
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await listener

    async def _step(self) -> None:
        # Cleared before reading, so a wake-up that lands during the read is not lost.
        self._event.clear()
        due = await self.earliest()
        now = utcnow()
        if due is not None and due <= now:
            self._sleeping_until = None
            while True:
                result = await fire_due(self.core, self.on_transfer)
                if result.busy and result.busy == result.claimed:
                    # Only cases being changed right now are due: let their writes land.
                    await asyncio.sleep(BUSY_SECONDS)
                if result.claimed < CLAIM_SIZE:
                    return
        self._sleeping_until = due
        timeout = self.poll_seconds
        if due is not None:
            timeout = min(timeout, (due - now).total_seconds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)

    async def _publish(self, at: datetime) -> None:
        url = self.core.settings.redis_url
        if url is None:
            return
        if self._publisher is None:
            # Imported here: redis is loaded only by deployments that configure it.
            import redis.asyncio as aioredis

            self._publisher = aioredis.Redis.from_url(url)
        with contextlib.suppress(Exception):
            await self._publisher.publish(self.channel, at.isoformat())

    async def close(self) -> None:
        """At shutdown: finish publishing and drop the publisher's connection."""
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.aclose()
            self._publisher = None

    async def _listen(self) -> None:
        # Imported here: redis is loaded only by deployments that configure it.
        import redis.asyncio as aioredis

        url = self.core.settings.redis_url
        assert url is not None
        client = aioredis.Redis.from_url(url)
        try:
            while True:
                try:
                    pubsub = client.pubsub()
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._event.set()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.warning("SLA wake-up channel lost; reconnecting", exc_info=True)
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()
