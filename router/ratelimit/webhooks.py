"""Webhook rate limits: per channel, and per channel and source address, in this process.

These guard the webhook hot path (router/ingest/hot_path.py), where a whole request costs
about 15-25 µs of CPU. A Redis round trip per request would cost far more than the request
(and a failing Redis would stall every provider), and even `limits`' own memory storage
cost ~10 µs per check here (key building, a lock per key, a timer thread re-armed every
10 ms): bench/hot_path_cost.py measured the handler going from ~24 to ~60 µs. So the limits
are parsed with `limits` (the same notation as every other limit) and counted here: one
fixed window per key, started by its first request, a dict entry and an integer. With N
replicas behind a balancer a channel may take up to N times the limit, which is what a
per-replica guard against floods and runaway bots is for; the defaults sit well above the
thousands of messages a second one channel takes (bench/), so a real provider is never
throttled.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from limits import RateLimitItem, parse_many

from router.errors import RateLimited
from router.settings import Settings

CHANNEL_DETAIL = "this channel's webhook receives more requests than the service allows"
SOURCE_DETAIL = "this address sends this channel's webhook more requests than allowed"
# Keys kept before expired windows are swept (a flood from many addresses stays bounded).
MAX_KEYS = 100_000


class FixedWindows:
    """`amount` requests per key in each window of `seconds`, the window opened by the key's
    first request; over it, the seconds until the window ends."""

    __slots__ = ("_windows", "amount", "seconds")

    def __init__(self, item: RateLimitItem) -> None:
        self.amount = item.amount
        self.seconds = float(item.get_expiry())
        # key → [window end, requests in it]
        self._windows: dict[object, list[float]] = {}

    def hit(self, key: object, now: float) -> float:
        """Count one request of `key` at `now` (time.monotonic)."""
        window = self._windows.get(key)
        if window is None or now >= window[0]:
            if len(self._windows) >= MAX_KEYS:
                self._sweep(now)
            self._windows[key] = [now + self.seconds, 1]
            return 0.0
        window[1] += 1
        return window[0] - now if window[1] > self.amount else 0.0

    def _sweep(self, now: float) -> None:
        self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
        if len(self._windows) >= MAX_KEYS:  # all live: start afresh rather than grow
            self._windows.clear()


class WebhookThrottle:
    def __init__(self, settings: Settings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._source = [FixedWindows(i) for i in parse_many(settings.rate_limit_webhook_source)]
        self._channel = [FixedWindows(i) for i in parse_many(settings.rate_limit_webhook_channel)]

    def refusal(self, channel_id: str, source: str) -> RateLimited | None:
        """Count one request; the 429 to answer when it is over a limit, else None."""
        now = self._clock()
        for windows in self._source:
            wait = windows.hit((channel_id, source), now)
            if wait:
                return RateLimited(SOURCE_DETAIL, wait)
        for windows in self._channel:
            wait = windows.hit(channel_id, now)
            if wait:
                return RateLimited(CHANNEL_DETAIL, wait)
        return None
