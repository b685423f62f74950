"""Who may talk to a web-chat channel and how fast: origins and per-visitor rate limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, allowed: Sequence[str], own_origin: str) -> bool:
    """Browsers always send Origin on cross-site fetches and WebSockets; a request without one
    is not a browser, which CORS does not guard anyway, so it passes (the token still rules)."""
    if origin is None:
        return True
    value = normalise_origin(origin)
    if "*" in allowed:
        return True
    # "null" comes from sandboxed frames and file:// pages: never an embedding site.
    if value == "null":
        return False
    return value in allowed or value == normalise_origin(own_origin)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by visitor (or client address): `burst` at once, `per_second` after.

    In-process: with several replicas each one limits on its own, which still bounds a visitor
    (a visitor's WebSocket stays on one replica)."""

    MAX_KEYS = 50_000

    def __init__(self, burst: int, per_second: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = float(burst)
        self.per_second = per_second
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def retry_after(self, key: str) -> float:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.tokens >= 1.0:
            return 0.0
        return (1.0 - bucket.tokens) / self.per_second

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: forgetting them changes nothing."""
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.per_second >= self.burst:
                del self._buckets[key]
