"""The visitor WebSocket against a fake core: handshake, messages, live replies, typing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from connectors.base import OutboundMessage, Recipient, SendResult
from connectors.webchat.visitor_ws import MAX_FRAME_BYTES
from router.ratelimit.limiter import Throttle
from router.settings import Settings
from tests.connectors.webchat.fakes import (
    PAGE_ORIGIN,
    FakeCore,
    FakeGateway,
    start_fake_core,
    webchat_channel,
)


@pytest.fixture
async def core() -> AsyncIterator[FakeCore]:
    gateway = FakeGateway({"chan-a": webchat_channel("chan-a", email_channel_id="mail-1"),
                           "chan-b": webchat_channel("chan-b")})
    fake = await start_fake_core(gateway)
    yield fake
    await fake.stop()


async def session(core: FakeCore, channel: str = "chan-a") -> dict[str, str]:
    response = await core.client.post(f"/webchat/{channel}/session", json={},
                                      headers={"Origin": PAGE_ORIGIN})
    answer: dict[str, str] = response.json()
    return answer


def ws_url(core: FakeCore, channel: str = "chan-a") -> str:
    return core.url.replace("http://", "ws://") + f"/webchat/{channel}/ws"


async def receive(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await ws.recv())
    return frame


async def hello(core: FakeCore, token: str, channel: str = "chan-a") -> ClientConnection:
    ws = await connect(ws_url(core, channel), origin=PAGE_ORIGIN)  # type: ignore[arg-type]
    await ws.send(json.dumps({"type": "hello", "token": token}))
    return ws


def reply(message_id: int, visitor_id: str, text: str) -> OutboundMessage:
    return OutboundMessage(message_id=message_id, thread_id=7,
                           recipient=Recipient(external_user_id=visitor_id), text=text)


async def test_a_foreign_origin_is_refused_at_the_handshake(core: FakeCore) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(ws_url(core), origin="https://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403


async def test_a_token_of_another_channel_is_refused(core: FakeCore) -> None:
    other = await session(core, "chan-b")
    ws = await hello(core, other["token"])
    assert await receive(ws) == {"type": "error", "code": "invalid_token",
                                 "detail": "the token belongs to another channel"}
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_the_first_frame_must_be_hello(core: FakeCore) -> None:
    ws = await connect(ws_url(core), origin=PAGE_ORIGIN)  # type: ignore[arg-type]
    await ws.send(json.dumps({"type": "message", "id": "c_0123456789abcdef", "text": "hi"}))
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert core.gateway.accepted == []


async def test_message_is_acked_stored_and_echoed_to_other_tabs(core: FakeCore) -> None:
    visitor = await session(core)
    core.gateway.online = True
    tab1, tab2 = await hello(core, visitor["token"]), await hello(core, visitor["token"])
    for tab in (tab1, tab2):
        assert await receive(tab) == {"type": "ready", "visitor_id": visitor["visitor_id"],
                                      "verified": False, "agents_online": True}
    await tab1.send(json.dumps({"type": "message", "id": "c_0123456789abcdef",
                                "text": "<img src=x onerror=alert(1)>"}))
    assert await receive(tab1) == {
        "type": "ack", "id": "c_0123456789abcdef",
        "external_id": f"{visitor['visitor_id']}/c_0123456789abcdef"}
    echo = await receive(tab2)
    assert echo["type"] == "message"
    assert {k: echo["message"][k] for k in ("id", "direction", "text")} == {
        "id": "c_0123456789abcdef", "direction": "inbound", "text": "<img src=x onerror=alert(1)>"}
    [(_, event_id, payload, _)] = core.gateway.accepted
    assert event_id == f"m:{visitor['visitor_id']}/c_0123456789abcdef"
    assert json.loads(payload)["text"] == "<img src=x onerror=alert(1)>"
    await tab1.close()
    await tab2.close()


async def test_send_pushes_live_to_every_tab_and_is_delivered(core: FakeCore) -> None:
    visitor = await session(core)
    tabs = [await hello(core, visitor["token"]) for _ in range(2)]
    for tab in tabs:
        await receive(tab)
    channel = core.gateway.channels["chan-a"]
    result = await core.connector.send(channel, reply(41, visitor["visitor_id"], "Hi there"))
    assert result == SendResult(external_id="wc-41", status="delivered")
    for tab in tabs:
        frame = await receive(tab)
        assert frame["message"].pop("sent_at")
        assert frame == {"type": "message", "message": {
            "id": 41, "direction": "outbound", "text": "Hi there", "status": "delivered",
            "automatic": False, "attachments": []}}
        await tab.close()


async def test_send_to_an_offline_visitor_asks_for_the_email_copy(core: FakeCore) -> None:
    visitor = await session(core)
    tab = await hello(core, visitor["token"])
    await receive(tab)
    await tab.close()
    live = core.connector.runtime.live
    for _ in range(500):  # the server notices the close on its own schedule
        if not live.connected("chan-a", visitor["visitor_id"]):
            break
        await asyncio.sleep(0.01)
    channel = core.gateway.channels["chan-a"]
    result = await core.connector.send(channel, reply(42, visitor["visitor_id"], "Still there?"))
    assert result == SendResult(external_id="wc-42", status="sent",
                                also_deliver_via_channel_id="mail-1")
    no_mail = await core.connector.send(core.gateway.channels["chan-b"],
                                        reply(43, visitor["visitor_id"], "Hello?"))
    assert no_mail == SendResult(external_id="wc-43", status="sent")


async def test_agent_typing_reaches_the_visitor(core: FakeCore) -> None:
    visitor = await session(core)
    tab = await hello(core, visitor["token"])
    await receive(tab)
    await core.connector.agent_typing(core.gateway.channels["chan-a"],
                                      Recipient(external_user_id=visitor["visitor_id"]))
    assert await receive(tab) == {"type": "typing", "active": True}
    await tab.close()


async def test_visitor_typing_reaches_the_agents_at_most_once_per_interval(
    core: FakeCore
) -> None:
    visitor = await session(core)
    tab = await hello(core, visitor["token"])
    await receive(tab)
    for _ in range(3):
        await tab.send(json.dumps({"type": "typing"}))
    await tab.send(json.dumps({"type": "ping"}))
    assert (await receive(tab))["type"] == "pong"  # frames are handled in order
    assert core.gateway.typing == [("chan-a", visitor["visitor_id"])]
    await tab.close()


async def test_rate_limit_and_bad_frames_answer_errors(core: FakeCore) -> None:
    core.gateway.throttle = Throttle(Settings(rate_limit_visitor="1/minute"))
    visitor = await session(core)
    tab = await hello(core, visitor["token"])
    await receive(tab)
    await tab.send(json.dumps({"type": "message", "id": "c_aaaaaaaaaaaaaaaa", "text": "one"}))
    assert (await receive(tab))["type"] == "ack"
    await tab.send(json.dumps({"type": "message", "id": "c_bbbbbbbbbbbbbbbb", "text": "two"}))
    assert await receive(tab) == {
        "type": "error", "id": "c_bbbbbbbbbbbbbbbb", "code": "rate_limited",
        "detail": "slow down: this visitor is sending faster than the channel allows"}
    await tab.send(json.dumps({"type": "message", "id": "c_cccccccccccccccc",
                               "text": "x" * 5001}))
    assert await receive(tab) == {"type": "error", "id": "c_cccccccccccccccc",
                                  "code": "invalid", "detail": "invalid fields: text"}
    await tab.send(json.dumps({"type": "dance"}))
    assert await receive(tab) == {"type": "error", "code": "unknown_type",
                                  "detail": "unknown frame type 'dance'"}
    assert len(core.gateway.accepted) == 1
    await tab.close()


async def test_an_oversized_frame_closes_the_socket(core: FakeCore) -> None:
    visitor = await session(core)
    tab = await hello(core, visitor["token"])
    await receive(tab)
    await tab.send(json.dumps({"type": "message", "id": "c_aaaaaaaaaaaaaaaa",
                               "text": "x" * MAX_FRAME_BYTES}))
    with pytest.raises(ConnectionClosed) as closed:
        await tab.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert core.gateway.accepted == []


async def test_a_binary_frame_closes_the_socket(core: FakeCore) -> None:
    visitor = await session(core)
    tab = await hello(core, visitor["token"])
    await receive(tab)
    await tab.send(b'{"type": "ping"}')
    with pytest.raises(ConnectionClosed) as closed:
        await tab.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003


async def test_an_unknown_channel_closes_with_4404(core: FakeCore) -> None:
    ws = await connect(ws_url(core, "nope"), origin=PAGE_ORIGIN)  # type: ignore[arg-type]
    with pytest.raises(ConnectionClosed) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


async def test_deleting_the_channel_closes_its_visitors_only(core: FakeCore) -> None:
    here, there = await session(core, "chan-a"), await session(core, "chan-b")
    tab_a, tab_b = await hello(core, here["token"]), await hello(core, there["token"], "chan-b")
    await receive(tab_a)
    await receive(tab_b)
    await core.connector.on_channel_deleted(core.gateway.channels["chan-a"])
    with pytest.raises(ConnectionClosed) as closed:
        await tab_a.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    live = core.connector.runtime.live
    assert not live.connected("chan-a", here["visitor_id"])
    assert live.connected("chan-b", there["visitor_id"])
    await tab_b.send(json.dumps({"type": "ping"}))
    assert await receive(tab_b) == {"type": "pong", "agents_online": False}
    await tab_b.close()
