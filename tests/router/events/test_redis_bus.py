"""Across replicas: two apps on one database and one Redis stream see each other's events."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from router.events.bus import Event, RedisBus
from tests.apichannel import inbound, post_inbound
from tests.conftest import MakeOmni


async def _take(events: AsyncIterator[Event], n: int) -> list[Event]:
    out: list[Event] = []
    async for event in events:
        out.append(event)
        if len(out) == n:
            break
    return out


async def test_redis_bus_fans_out_and_resumes(redis_url: str) -> None:
    stream = f"omniroute:test:{secrets.token_hex(4)}"
    one, two = RedisBus(redis_url, stream=stream), RedisBus(redis_url, stream=stream)
    await one.start()
    await two.start()
    try:
        live = asyncio.create_task(_take(two.subscribe(None), 2))
        await asyncio.sleep(0.2)
        await one.publish([("thread.updated", {"id": 1}), ("message.created", {"id": 2})])
        got = await asyncio.wait_for(live, 10)
        assert [(e.type, e.data) for e in got] == [("thread.updated", {"id": 1}),
                                                    ("message.created", {"id": 2})]
        await one.publish([("message.status", {"id": 3})])
        resumed = await asyncio.wait_for(_take(two.subscribe(got[-1].id), 1), 10)
        assert [e.type for e in resumed] == ["message.status"]
    finally:
        await one.stop()
        await two.stop()
        client = aioredis.Redis.from_url(redis_url)
        await client.delete(stream)
        await client.aclose()


async def test_two_replicas_share_events(make_omni: MakeOmni, redis_url: str) -> None:
    stream = f"omniroute:test:{secrets.token_hex(4)}"  # both replicas tail this one stream
    first = await make_omni(redis_url=redis_url, redis_stream=stream)
    second = await make_omni(redis_url=redis_url, redis_stream=stream, run_workers=False)
    created = await first.create_channel("api", "bot", {})
    events: list[str] = []

    async def listen() -> None:
        async with second.client.stream("GET", "/v1/events",
                                        params={"types": "message.created"}) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: ") and '"replica test"' in line:
                    events.append(line)
                    return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0.3)
    # The message enters through the replica without workers; the other one processes it,
    # and the event reaches the agent connected to the first.
    await post_inbound(second.client, created["id"], created["generated_secrets"]["secret"],
                       inbound("u", "m-replica", "replica test"))
    await asyncio.wait_for(listener, 10)
    assert len(events) == 1
