"""The service's rate limits for people and keys, counted with `limits`.

One replica counts in memory; with OMNIROUTE_REDIS_URL the replicas share counters in Redis
(sliding-window counters: two integers per key and window, one round trip per check), so a
key or a visitor gets its budget once, not once per replica. Webhooks are counted apart,
locally (router/ratelimit/webhooks.py).
"""

from __future__ import annotations

import logging
import time
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from router.errors import RateLimited
from router.settings import Settings

log = logging.getLogger("omniroute.ratelimit")
# The limits connectors may ask for through the gateway, and the API's own.
LimitName = Literal["api_key", "visitor", "visitor_sessions"]
DETAILS: dict[str, str] = {
    "api_key": "this API key is sending requests faster than the service allows",
    "visitor": "this visitor is sending faster than the chat allows",
    "visitor_sessions": "too many new chat visitors from this address",
}
# A failing Redis lets requests through (a limiter must not take the API down); say so at
# most this often.
WARN_EVERY_SECONDS = 60.0


def _storage(settings: Settings) -> Storage:
    if not settings.redis_url:
        return MemoryStorage()
    scheme, sep, rest = settings.redis_url.partition("://")
    return RedisStorage(f"async+{scheme}{sep}{rest}", implementation="redispy",
                        key_prefix=f"{settings.redis_stream}:limits")


class Throttle:
    """Counts requests against the named limits of the settings."""

    def __init__(self, settings: Settings) -> None:
        self._limits: dict[str, list[RateLimitItem]] = {
            "api_key": parse_many(settings.rate_limit_api_key),
            "visitor": parse_many(settings.rate_limit_visitor),
            "visitor_sessions": parse_many(settings.rate_limit_visitor_sessions),
        }
        self._limiter = SlidingWindowCounterRateLimiter(_storage(settings))
        self._warned_at = -WARN_EVERY_SECONDS

    async def wait(self, name: LimitName, key: str) -> float:
        """Count one request for `key`: 0 if it passes, else seconds until one would."""
        items = self._limits[name]
        try:
            for item in items:
                if not await self._limiter.hit(item, name, key):
                    stats = await self._limiter.get_window_stats(item, name, key)
                    return max(1.0, stats.reset_time - time.time())
        except Exception:  # the storage failed (Redis down): let the request through
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY_SECONDS:
                self._warned_at = now
                log.warning("rate-limit storage unavailable; %s limits are not enforced",
                            name, exc_info=True)
        return 0.0

    async def check(self, name: LimitName, key: str) -> None:
        """Count one request; over the limit raises RateLimited (429 with Retry-After)."""
        retry_after = await self.wait(name, key)
        if retry_after:
            raise RateLimited(DETAILS[name], retry_after)

    async def close(self) -> None:
        """Close the Redis connections, if any (`limits` has no close of its own; its redis-py
        bridge keeps the client as `storage`)."""
        client = getattr(getattr(self._limiter.storage, "bridge", None), "storage", None)
        closing = getattr(client, "aclose", None)
        if closing is not None:
            try:
                await closing()
            except Exception:
                log.debug("closing the rate-limit Redis client failed", exc_info=True)
