"""Presence implied by live streams: online on connect, offline a grace period after the
last stream anywhere closed; shared by replicas, kept across restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import websockets
from sqlalchemy import select, update

from router.models import Agent, AgentStream
from router.models.base import utcnow
from tests.conftest import MakeOmni
from tests.omni import ADMIN_KEY, OmniServer
from tests.people import client_for, eventually, make_agent, make_key

GRACE = 0.4


async def presence(omni: OmniServer, agent_id: int) -> str:
    body: dict[str, Any] = (await omni.client.get(f"/v1/agents/{agent_id}")).json()
    return str(body["presence"])


async def becomes(omni: OmniServer, agent_id: int, status: str) -> None:
    async def check() -> bool:
        return await presence(omni, agent_id) == status
    await eventually(check)


@contextlib.asynccontextmanager
async def live_stream(omni: OmniServer, key: str) -> AsyncIterator[list[dict[str, Any]]]:
    """An open SSE stream with `key`; yields the events it has received so far."""
    received: list[dict[str, Any]] = []
    opened = asyncio.Event()

    async def read() -> None:
        async with client_for(omni, key) as client, client.stream("GET", "/v1/events") as r:
            assert r.status_code == 200
            opened.set()
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))

    task = asyncio.create_task(read())
    await asyncio.wait_for(opened.wait(), 10)
    try:
        yield received
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await task


async def agent_and_key(omni: OmniServer, name: str = "Ada") -> tuple[int, str]:
    agent = await make_agent(omni, name)
    return agent["id"], await make_key(omni, name, agent_id=agent["id"])


async def test_a_stream_brings_an_agent_online_and_its_end_offline_after_grace(
        make_omni: MakeOmni) -> None:
    omni = await make_omni(presence_grace_seconds=GRACE)
    agent_id, key = await agent_and_key(omni)
    async with live_stream(omni, ADMIN_KEY) as watched:
        async with live_stream(omni, key):
            await becomes(omni, agent_id, "online")
        await becomes(omni, agent_id, "offline")
        await eventually(lambda: _async(len([e for e in watched
                                             if e["type"] == "agent.presence"]) >= 2))
    changes = [(e["data"]["status"], e["data"]["by"]) for e in watched
               if e["type"] == "agent.presence"]
    assert changes == [("online", "stream"), ("offline", "grace")]
    async with omni.core.reads() as session:
        assert list(await session.scalars(select(AgentStream))) == []


async def _async(value: bool) -> bool:
    return value


async def test_a_reconnect_within_grace_keeps_the_agent_online(make_omni: MakeOmni) -> None:
    omni = await make_omni(presence_grace_seconds=2.0)
    agent_id, key = await agent_and_key(omni)
    async with live_stream(omni, key):
        await becomes(omni, agent_id, "online")
    async with live_stream(omni, key):
        await asyncio.sleep(2.5)  # past the grace the first stream's end started
        assert await presence(omni, agent_id) == "online"
    await becomes(omni, agent_id, "offline")


async def test_two_streams_one_closed_keeps_the_agent_online(make_omni: MakeOmni) -> None:
    omni = await make_omni(presence_grace_seconds=GRACE)
    agent_id, key = await agent_and_key(omni)
    async with live_stream(omni, key):
        url = omni.url.replace("http://", "ws://") + "/v1/events/ws"
        async with websockets.connect(url, additional_headers={
                "Authorization": f"Bearer {key}"}):
            await becomes(omni, agent_id, "online")
        await asyncio.sleep(GRACE * 3)
        assert await presence(omni, agent_id) == "online"
    await becomes(omni, agent_id, "offline")


async def test_a_websocket_alone_implies_presence_too(make_omni: MakeOmni) -> None:
    omni = await make_omni(presence_grace_seconds=GRACE)
    agent_id, key = await agent_and_key(omni)
    url = omni.url.replace("http://", "ws://") + "/v1/events/ws"
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"}):
        await becomes(omni, agent_id, "online")
    await becomes(omni, agent_id, "offline")


async def test_streams_on_two_replicas_count_together(make_omni: MakeOmni) -> None:
    one = await make_omni(presence_grace_seconds=1.0)
    two = await make_omni(presence_grace_seconds=1.0)
    agent_id, key = await agent_and_key(one)
    async with live_stream(one, key):
        await becomes(one, agent_id, "online")
        async with live_stream(two, key):
            await eventually(lambda: _rows(one, 2))
        # The stream on replica two closed; replica one still holds one: no timer fires.
        await asyncio.sleep(1.5)
        assert await presence(two, agent_id) == "online"
    await becomes(two, agent_id, "offline")


async def _rows(omni: OmniServer, count: int) -> bool:
    async with omni.core.reads() as session:
        return len(list(await session.scalars(select(AgentStream)))) == count


async def test_said_presence_without_a_stream_expires_with_one_it_stays(
        make_omni: MakeOmni) -> None:
    omni = await make_omni(presence_grace_seconds=GRACE)
    agent_id, key = await agent_and_key(omni)
    async with client_for(omni, key) as client:
        said = await client.put("/v1/agents/me/presence", json={"status": "online"})
        assert said.status_code == 200 and said.json()["presence"] == "online"
        await becomes(omni, agent_id, "offline")
        async with live_stream(omni, key):
            await becomes(omni, agent_id, "online")
            assert (await client.put("/v1/agents/me/presence", json={"status": "away"})
                    ).json()["presence"] == "away"
            await asyncio.sleep(GRACE * 3)
            assert await presence(omni, agent_id) == "away"  # a stream does not undo "away"
            await client.put("/v1/agents/me/presence", json={"status": "offline"})
            await asyncio.sleep(GRACE)
            assert await presence(omni, agent_id) == "offline"
        bad = await client.put("/v1/agents/me/presence", json={"status": "busy"})
        assert bad.status_code == 422


async def test_a_due_time_outlives_the_replica_that_set_it(make_omni: MakeOmni) -> None:
    first = await make_omni(presence_grace_seconds=60)
    agent_id, key = await agent_and_key(first)
    async with live_stream(first, key):
        await becomes(first, agent_id, "online")

    async def due_set() -> bool:
        async with first.core.reads() as session:
            due = await session.scalar(select(Agent.offline_due_at).where(Agent.id == agent_id))
        return due is not None and due > utcnow() + timedelta(seconds=50)
    await eventually(due_set)
    await first.stop()
    # Its grace runs out while no replica runs; the next one to start fires it.
    async with first.core.unit() as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(
            offline_due_at=utcnow() - timedelta(seconds=1)))
    second = await make_omni(presence_grace_seconds=60)
    await becomes(second, agent_id, "offline")


async def test_streams_of_a_replica_that_died_are_reaped(make_omni: MakeOmni) -> None:
    omni = await make_omni(presence_grace_seconds=GRACE)
    agent_id, _key = await agent_and_key(omni)
    omni.core.presence.stale_seconds = 0.5
    omni.core.presence.beat_seconds = 0.2
    async with omni.core.unit() as session:
        await session.execute(update(Agent).where(Agent.id == agent_id).values(
            presence="online"))
        session.add(AgentStream(replica="dead", agent_id=agent_id, streams=3, beat_at=utcnow()))
    await asyncio.sleep(0.3)
    assert await presence(omni, agent_id) == "online"  # its last beat is still fresh
    await becomes(omni, agent_id, "offline")
    assert await _rows(omni, 0)
