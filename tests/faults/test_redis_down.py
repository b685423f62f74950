"""Redis down, then back (a private redis-server, never the machine's).

Meanwhile each replica keeps working on its own: webhooks are stored and processed, replies
delivered. Live events committed meanwhile wait in the replica and reach the Redis stream,
in order, once it answers; a client resuming with Last-Event-ID gets them, and events from
the other replica reach this one's clients again.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from router.events.bus import RedisBus
from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.conftest import MakeOmni
from tests.faults.processes import PrivateRedis, available
from tests.omni import OmniServer, messages, only_thread

SECRET = "redis-down-secret-0123456"


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    if not available("redis-server"):
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()
    server.cleanup()


async def _events(client: httpx.AsyncClient, want: int, last_id: str | None = None,
                  types: str = "message.created") -> list[dict[str, Any]]:
    headers = {"Last-Event-ID": last_id} if last_id else {}
    events: list[dict[str, Any]] = []
    async with client.stream("GET", "/v1/events", headers=headers,
                             params={"types": types}) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if len(events) >= want:
                    break
    return events


async def test_redis_down_and_back(make_omni: MakeOmni, private_redis: PrivateRedis,
                                   callback: CallbackServer) -> None:
    stream = f"omniroute:fault:{secrets.token_hex(4)}"
    one: OmniServer = await make_omni(redis_url=private_redis.url, redis_stream=stream)
    # API only: every event is published by the first replica, so their order is its order
    # (two replicas' events committed during an outage reach the stream in each one's order).
    two: OmniServer = await make_omni(redis_url=private_redis.url, redis_stream=stream,
                                      run_workers=False)
    callback.secret = SECRET
    channel = (await one.create_channel("api", "bot", {
        "secret": SECRET, "callback_url": callback.url, "trusted": True}))["id"]
    listening = asyncio.create_task(_events(one.client, 1))
    await asyncio.sleep(0.3)
    assert (await post_inbound(one.client, channel, SECRET,
                               inbound("ada", "m1", "before"))).status_code == 202
    before = (await asyncio.wait_for(listening, 10))[0]
    assert before["data"]["text"] == "before"

    private_redis.stop()
    # One replica on its own: ingest, processing and delivery carry on.
    assert (await post_inbound(one.client, channel, SECRET,
                               inbound("ada", "m2", "during"))).status_code == 202
    await one.settle()
    thread = await only_thread(one)
    assert [m["text"] for m in await messages(one, thread["id"])] == ["before", "during"]
    reply = await one.client.post(f"/v1/threads/{thread['id']}/messages",
                                  json={"text": "still here"})
    assert reply.status_code == 201
    await one.settle()
    assert [p["text"] for p in callback.received] == ["still here"]
    # Resuming needs the stream: a clear 503, and the client keeps its position.
    refused = await one.client.get("/v1/events", headers={"Last-Event-ID": before["id"]})
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    bus = one.core.bus
    assert isinstance(bus, RedisBus) and bus.spooled > 0

    private_redis.start()
    await one.wait_for(lambda: _drained(one, two), timeout=15)
    # Resuming from before the outage replays what happened meanwhile, in order.
    resumed = await asyncio.wait_for(_events(one.client, 2, before["id"]), 10)
    assert [e["data"]["text"] for e in resumed] == ["during", "still here"]
    # Cross-replica delivery is back: what the first replica processes reaches a client of
    # the second, and a message the second took reaches the first's workers.
    listening = asyncio.create_task(_events(two.client, 1, resumed[-1]["id"]))
    assert (await post_inbound(two.client, channel, SECRET,
                               inbound("ada", "m3", "after"))).status_code == 202
    after = await asyncio.wait_for(listening, 15)
    assert [e["data"]["text"] for e in after] == ["after"]


async def _drained(*replicas: OmniServer) -> bool:
    return all(isinstance(r.core.bus, RedisBus) and r.core.bus.spooled == 0 for r in replicas)
