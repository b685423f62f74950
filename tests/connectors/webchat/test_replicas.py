"""Two replicas on one database and one Redis: the visitor's socket is on one, the outbox that
sends the agent's reply may run on the other."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from websockets.asyncio.client import connect

from router import relay
from tests.conftest import MakeOmni
from tests.connectors.webchat.visitor import PAGE_ORIGIN, ScriptedVisitor
from tests.omni import ADMIN_KEY, OmniServer


async def two_replicas(make_omni: MakeOmni, redis_url: str) -> tuple[OmniServer, OmniServer]:
    stream = f"omniroute:test:{secrets.token_hex(4)}"
    # Only the first runs workers, so its outbox is the one that sends every reply.
    first = await make_omni(redis_url=redis_url, redis_stream=stream)
    second = await make_omni(redis_url=redis_url, redis_stream=stream, run_workers=False)
    return first, second


async def visitor_on_second(first: OmniServer, second: OmniServer,
                            says: str) -> tuple[ScriptedVisitor, dict[str, Any]]:
    """A visitor connected to the second replica has said something; its thread, seen from
    the first (which runs the workers)."""
    channel = await first.create_channel("webchat", "Site chat",
                                         {"allowed_origins": [PAGE_ORIGIN]})
    visitor = await ScriptedVisitor.start(second.url, channel["id"])
    await visitor.connect()
    await visitor.say(says)
    await first.settle()
    [thread] = (await first.client.get("/v1/threads")).json()["items"]
    return visitor, thread


async def test_a_reply_reaches_a_visitor_connected_to_another_replica(
    make_omni: MakeOmni, redis_url: str
) -> None:
    first, second = await two_replicas(make_omni, redis_url)
    visitor, thread = await visitor_on_second(first, second, "Hello from the second replica")

    typing = await first.client.post(f"/v1/threads/{thread['id']}/typing")
    assert typing.status_code == 204
    assert await asyncio.wait_for(visitor.next("typing"), 10) == {"type": "typing",
                                                                   "active": True}
    reply = await first.client.post(f"/v1/threads/{thread['id']}/messages",
                                    json={"text": "Answered from the first"})
    assert reply.status_code == 201, reply.text
    pushed = await asyncio.wait_for(visitor.next("message"), 10)
    assert pushed["message"]["text"] == "Answered from the first"
    await first.settle()
    page = (await first.client.get(f"/v1/threads/{thread['id']}/messages")).json()["items"]
    assert (page[-1]["text"], page[-1]["status"]) == ("Answered from the first", "delivered")
    await visitor.close()


async def test_an_offline_visitor_is_still_offline_with_two_replicas(
    make_omni: MakeOmni, redis_url: str
) -> None:
    first, second = await two_replicas(make_omni, redis_url)
    visitor, thread = await visitor_on_second(first, second, "Hello, then gone")
    await visitor.close()
    await first.settle()
    reply = await first.client.post(f"/v1/threads/{thread['id']}/messages",
                                    json={"text": "Are you there?"})
    assert reply.status_code == 201
    await first.settle()
    page = (await first.client.get(f"/v1/threads/{thread['id']}/messages")).json()["items"]
    # Nobody took it live anywhere: "sent", not "delivered" (the e-mail copy is tested elsewhere).
    assert (page[-1]["text"], page[-1]["status"]) == ("Are you there?", "sent")


async def test_agents_on_another_replica_count_as_online(
    make_omni: MakeOmni, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relay, "PRESENCE_SECONDS", 0.1)
    first, second = await two_replicas(make_omni, redis_url)
    channel = await first.create_channel("webchat", "Site chat",
                                         {"allowed_origins": [PAGE_ORIGIN]})

    async def online() -> bool:
        answer = await second.client.post(f"/webchat/{channel['id']}/session", json={},
                                          headers={"Origin": PAGE_ORIGIN})
        return bool(answer.json()["agents_online"])

    assert await online() is False
    agent = await connect(first.url.replace("http://", "ws://")
                          + "/v1/events/ws",
                          additional_headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    try:
        await second.wait_for(online)
    finally:
        await agent.close()
