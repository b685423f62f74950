"""One event that JSON cannot encode never kills a stream, a replay or a Redis publish."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from router.events.bus import Event, InProcessBus, RedisBus
from router.events.stream import _sse

SECRET_TEXT = "my card is 4111\ud800"
BATCH: list[tuple[str, dict[str, Any]]] = [
    ("message.created", {"id": 1, "text": "before"}),
    ("message.created", {"id": 2, "text": SECRET_TEXT, "big": 2**70}),
    ("message.created", {"id": 3, "text": "after"}),
]


async def _take(events: AsyncIterator[Event], n: int) -> list[Event]:
    out: list[Event] = []
    async for event in events:
        out.append(event)
        if len(out) == n:
            break
    return out


def _texts(events: list[Event]) -> list[Any]:
    return [json.loads(_sse(e).split(b"data: ", 1)[1])["data"]["text"] for e in events]


async def test_the_in_process_bus_sends_and_replays_a_bad_event_repaired(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = InProcessBus()
    live = asyncio.create_task(_take(bus.subscribe(None), 3))
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, "omniroute.events"):
        await bus.publish(BATCH)
        got = await asyncio.wait_for(live, 5)
        assert _texts(got) == ["before", "my card is 4111\ufffd", "after"]
    assert json.loads(got[1].wire_json())["data"]["big"] == 2**70
    # The log names the event, never its text.
    assert "event 2 (message.created)" in caplog.text
    assert "4111" not in caplog.text
    # Reconnecting from before it replays it (and what came after) the same way.
    replayed = await asyncio.wait_for(_take(bus.subscribe(got[0].id), 2), 5)
    assert _texts(replayed) == ["my card is 4111\ufffd", "after"]
    await bus.stop()


async def test_redis_publishes_the_rest_of_a_batch_with_a_bad_event(redis_url: str) -> None:
    stream = f"omniroute:test:{secrets.token_hex(4)}"
    one, two = RedisBus(redis_url, stream=stream), RedisBus(redis_url, stream=stream)
    await one.start()
    await two.start()
    client = aioredis.Redis.from_url(redis_url)
    try:
        live = asyncio.create_task(_take(two.subscribe(None), 3))
        await asyncio.sleep(0.2)
        await one.publish(BATCH)
        got = await asyncio.wait_for(live, 10)
        assert [e.data["text"] for e in got] == ["before", "my card is 4111\ufffd", "after"]
        # An entry no replica can read (written by hand, or by another version) is skipped.
        await client.xadd(stream, {"e": b"{not json"})
        await one.publish([("message.created", {"id": 4, "text": "later"})])
        resumed = await asyncio.wait_for(_take(two.subscribe(got[-1].id), 1), 10)
        assert [e.data["text"] for e in resumed] == ["later"]
    finally:
        await one.stop()
        await two.stop()
        await client.delete(stream)
        await client.aclose()
