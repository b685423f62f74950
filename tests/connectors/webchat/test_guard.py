"""Origins and per-visitor rate limits."""

from __future__ import annotations

import pytest

from connectors.webchat.guard import RateLimiter, origin_allowed

OWN = "https://omniroute.example"


@pytest.mark.parametrize(("origin", "allowed", "expected"), [
    ("https://shop.example", ["https://shop.example"], True),
    ("HTTPS://Shop.Example/", ["https://shop.example"], True),
    ("https://evil.example", ["https://shop.example"], False),
    ("http://shop.example", ["https://shop.example"], False),
    ("https://shop.example:8443", ["https://shop.example"], False),
    ("https://omniroute.example", [], True),
    ("https://shop.example", [], False),
    ("https://anything.example", ["*"], True),
    ("null", ["https://shop.example"], False),
    (None, ["https://shop.example"], True),
])
def test_origin_allowed(origin: str | None, allowed: list[str], expected: bool) -> None:
    assert origin_allowed(origin, allowed, OWN) is expected


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_steady_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(burst=3, per_second=0.5, clock=clock)
    assert [limiter.allow("v1") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("v1") == pytest.approx(2.0)
    assert limiter.allow("v2") is True  # per visitor: another visitor is unaffected
    clock.now = 2.0
    assert [limiter.allow("v1") for _ in range(2)] == [True, False]


def test_forgetting_full_buckets_keeps_limits() -> None:
    clock = Clock()
    limiter = RateLimiter(burst=1, per_second=0.5, clock=clock)
    limiter.MAX_KEYS = 2
    assert limiter.allow("a") is True
    clock.now = 10.0
    assert limiter.allow("b") is True
    assert limiter.allow("c") is True  # "a" refilled and was forgotten; "b" is kept
    assert limiter.allow("b") is False
