"""Live events over SSE and WebSocket, and resuming without a gap."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import websockets

from tests.apichannel import inbound, post_inbound
from tests.omni import ADMIN_KEY, OmniServer


async def _read_sse(client: httpx.AsyncClient, headers: dict[str, str], want: int,
                    params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with client.stream("GET", "/v1/events", headers=headers, params=params) as response:
        assert response.status_code == 200
        event_id = None
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            if line.startswith("data: "):
                body = json.loads(line[6:])
                assert body["id"] == (event_id or "")
                events.append(body)
                if len(events) >= want:
                    break
    return events


async def test_sse_streams_and_resumes_with_last_event_id(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    reader = asyncio.create_task(_read_sse(omni.client, {}, 2,
                                           {"types": "message.created,thread.updated"}))
    await asyncio.sleep(0.2)
    await post_inbound(omni.client, ch, secret, inbound("u", "m1", "first"))
    first = await asyncio.wait_for(reader, 10)
    assert [e["type"] for e in first] == ["message.created", "thread.updated"]
    assert first[0]["data"]["text"] == "first"

    # Disconnected; meanwhile another message arrives. Resuming replays exactly what was missed.
    await post_inbound(omni.client, ch, secret, inbound("u", "m2", "second"))
    await omni.settle()
    resumed = await asyncio.wait_for(
        _read_sse(omni.client, {"Last-Event-ID": first[-1]["id"]}, 2,
                  {"types": "message.created,thread.updated"}), 10)
    assert [e["type"] for e in resumed] == ["message.created", "thread.updated"]
    assert resumed[0]["data"]["text"] == "second"


async def test_sse_needs_a_key(omni: OmniServer) -> None:
    response = await omni.client.get("/v1/events", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_websocket_delivers_events(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    url = omni.url.replace("http://", "ws://") + "/v1/events/ws?types=message.created"
    async with websockets.connect(url, additional_headers={
            "Authorization": f"Bearer {ADMIN_KEY}"}) as ws:
        await asyncio.sleep(0.1)
        await post_inbound(omni.client, ch, secret, inbound("u", "m1", "over ws"))
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert event["type"] == "message.created"
    assert event["data"]["text"] == "over ws"


async def test_websocket_refuses_a_bad_key(omni: OmniServer) -> None:
    url = omni.url.replace("http://", "ws://") + "/v1/events/ws?ticket=wrong"
    async with websockets.connect(url) as ws:
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
        else:
            raise AssertionError("the socket stayed open")
