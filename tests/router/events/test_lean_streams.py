"""The per-stream machinery: bounded pending lists, one heartbeat, hang-ups noticed at once."""

from __future__ import annotations

import asyncio
import functools
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from router.access.viewer import viewer_for
from router.auth.keys import Principal
from router.events.bus import PENDING_LIMIT, SLOW_REASON, Event, InProcessBus
from router.events.stream import stream_events
from tests.omni import ADMIN_KEY, OmniServer

ADMIN_VIEW = viewer_for(Principal(name="admin", role="admin", key_id=None), None)


async def _publish(bus: InProcessBus, count: int) -> None:
    await bus.publish([("thread.updated", {"n": n}) for n in range(count)])


async def test_a_slow_subscriber_is_dropped_not_buffered_without_limit() -> None:
    bus = InProcessBus()
    subscription = await bus.attach(None)
    await _publish(bus, PENDING_LIMIT)
    assert subscription.closed is None
    await _publish(bus, 1)
    assert subscription.closed == SLOW_REASON
    assert bus.subscriber_count == 0
    assert await subscription.next() is None
    await bus.stop()


async def test_a_dropped_subscriber_resumes_from_the_buffer_without_a_gap() -> None:
    bus = InProcessBus()
    await _publish(bus, 3)
    subscription = await bus.attach("1")
    assert [e.id for e in (await subscription.next() or [])] == ["2", "3"]
    await _publish(bus, 1)
    assert [e.id for e in (await subscription.next() or [])] == ["4"]
    subscription.close()
    assert [e.type for e in (await (await bus.attach("0")).next() or [])] == ["thread.updated"] * 4
    reset = await (await bus.attach("99")).next()
    assert reset is not None and [e.type for e in reset] == ["stream.reset"]
    await bus.stop()


async def test_one_heartbeat_wakes_idle_subscribers_only() -> None:
    bus = InProcessBus(heartbeat_seconds=0.05)
    idle, busy = await bus.attach(None), await bus.attach(None)
    assert await asyncio.wait_for(idle.next(), 2) == []
    await _publish(bus, 1)
    # The busy one had an event since the last beat: it gets the event, not a keep-alive.
    assert [e.id for e in (await busy.next() or [])] == ["1"]
    assert len([t for t in asyncio.all_tasks() if "heartbeat" in t.get_name()]) == 1
    await bus.stop()


async def test_the_iterator_ends_a_dropped_stream_with_a_reset() -> None:
    bus = InProcessBus()
    events = bus.subscribe(None)
    first = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0)
    await _publish(bus, PENDING_LIMIT + 1)
    event: Event = await asyncio.wait_for(first, 2)
    assert event.type == "stream.reset" and event.data["reason"] == SLOW_REASON
    await bus.stop()


async def test_a_stream_too_slow_to_keep_up_is_closed_with_a_note() -> None:
    bus = InProcessBus()
    sent: list[bytes] = []
    unblock = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message.get("body", b"").startswith(b"id: "):
            await unblock.wait()  # the client stops reading after the first event
        sent.append(message.get("body", b""))

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    stream = asyncio.create_task(stream_events(bus, None, None, ADMIN_VIEW, receive, send))
    await asyncio.sleep(0.05)
    await _publish(bus, 1)
    await asyncio.sleep(0.05)
    await _publish(bus, PENDING_LIMIT + 1)
    unblock.set()
    await asyncio.wait_for(stream, 2)
    assert sent[-2].startswith(b": client too slow; reconnect with Last-Event-ID")
    assert sent[-1] == b""
    assert bus.subscriber_count == 0


async def test_a_client_hanging_up_ends_its_stream_at_once(omni: OmniServer) -> None:
    address = urlsplit(omni.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    writer.write((f"GET /v1/events HTTP/1.1\r\nHost: {address.netloc}\r\n"
                  f"Authorization: Bearer {ADMIN_KEY}\r\n\r\n").encode())
    await writer.drain()
    await asyncio.wait_for(reader.readuntil(b": connected\n\n"), 5)
    assert omni.core.bus.subscriber_count == 1
    writer.close()
    await writer.wait_closed()
    for _ in range(100):
        if omni.core.bus.subscriber_count == 0:
            break
        await asyncio.sleep(0.02)
    assert omni.core.bus.subscriber_count == 0


async def test_refused_and_malformed_requests_still_get_problem_json(omni: OmniServer) -> None:
    too_long = await omni.client.get("/v1/events", params={"since": "9" * 65})
    assert too_long.status_code == 422
    assert too_long.headers["content-type"] == "application/problem+json"
    anonymous = await omni.client.get("/v1/events", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


async def test_the_route_streams_too_when_the_fast_path_is_not_taken(omni: OmniServer) -> None:
    # FastAPI's own __call__ skips Omniroute's fast path: the documented route serves it.
    transport = httpx.ASGITransport(app=functools.partial(FastAPI.__call__, omni.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = asyncio.create_task(client.get(
            "/v1/events", headers={"Authorization": f"Bearer {ADMIN_KEY}"}))
        for _ in range(100):
            if omni.core.bus.subscriber_count:
                break
            await asyncio.sleep(0.02)
        await omni.core.bus.publish([("thread.updated", {"id": 1})])
        await asyncio.sleep(0.1)
        await omni.core.bus.stop()  # ends every stream, so the buffered response completes
        response = await asyncio.wait_for(answer, 5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    body = response.text
    assert body.startswith(": connected\n\n") and "event: thread.updated\n" in body
    assert body.endswith(": server shutting down; reconnect with Last-Event-ID\n\n")
