"""Per-chat and per-channel send pacing from each connector's ChannelLimits."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Spaces sends so a provider's rate limits are respected before it has to say 429."""

    def __init__(self) -> None:
        self._next_free: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, key: str, per_second: float | None) -> None:
        if not per_second:
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            now = time.monotonic()
            start = max(now, self._next_free.get(key, 0.0))
            self._next_free[key] = start + 1.0 / per_second
            if start > now:
                await asyncio.sleep(start - now)
