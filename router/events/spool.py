"""Live events committed while Redis is unreachable, kept in order until it answers again.

Bounded: past `maxlen` the oldest go, and a client resuming from before them gets a reset
from the stream instead of a silent gap. Delivery is at-least-once: a batch Redis took but
did not confirm is sent again (a client may see such an event twice, with two ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger("omniroute.events")
RETRY_SECONDS = 0.5
BATCH = 500


class Spool:
    def __init__(self, send: Callable[[list[bytes]], Awaitable[None]], maxlen: int) -> None:
        self._send = send
        self._waiting: deque[bytes] = deque(maxlen=maxlen)
        self._flusher: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, bodies: list[bytes]) -> None:
        """Behind the ones already waiting, so the order holds."""
        self._waiting.extend(bodies)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="omniroute-events-spool")

    async def _flush(self) -> None:
        while self._waiting:
            batch = list(itertools.islice(self._waiting, BATCH))
            try:
                await self._send(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(RETRY_SECONDS)
                continue
            for _ in batch:
                self._waiting.popleft()
        log.info("live events: Redis answers again; the waiting events are published")

    async def stop(self) -> None:
        """Cancel the retries; one last try for what still waits."""
        if self._flusher is not None:
            self._flusher.cancel()
            with _suppress():
                await self._flusher
        if self._waiting:
            with _suppress():
                await self._send(list(self._waiting))


def _suppress() -> contextlib.suppress:
    return contextlib.suppress(Exception, asyncio.CancelledError)
