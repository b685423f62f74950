"""API keys stay out of URLs; browsers open event streams with short-lived signed tickets."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import websockets

from router.auth.keys import KeyCache, Principal
from router.auth.tickets import issue_ticket
from tests.apichannel import inbound, post_inbound
from tests.omni import ADMIN_KEY, OmniServer


async def _ticket(omni: OmniServer, key: str = ADMIN_KEY) -> str:
    answer = await omni.client.post("/v1/events/ticket", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["expires_in"] == 60
    assert key not in body["ticket"]
    ticket: str = body["ticket"]
    return ticket


def _bare(omni: OmniServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=omni.url, timeout=10)


async def test_an_api_key_in_the_url_is_refused_everywhere(omni: OmniServer) -> None:
    async with _bare(omni) as client:
        for path in ("/v1/threads", "/v1/customers", "/v1/events", "/v1/events/ticket"):
            method = "POST" if path.endswith("ticket") else "GET"
            answer = await client.request(method, path, params={"access_token": ADMIN_KEY})
            assert answer.status_code == 401, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
    url = omni.url.replace("http://", "ws://") + f"/v1/events/ws?access_token={ADMIN_KEY}"
    async with websockets.connect(url) as ws:
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4401
        else:
            raise AssertionError("the socket stayed open")


async def test_a_ticket_opens_the_sse_stream_and_the_websocket(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    ticket = await _ticket(omni)
    async with _bare(omni) as client, client.stream(
            "GET", "/v1/events", params={"ticket": ticket, "types": "message.created"}) as sse:
        assert sse.status_code == 200
        await post_inbound(omni.client, ch, secret, inbound("u", "m1", "over sse"))
        async for line in sse.aiter_lines():
            if line.startswith("data: "):
                assert json.loads(line[6:])["data"]["text"] == "over sse"
                break
    url = (omni.url.replace("http://", "ws://")
           + f"/v1/events/ws?types=message.created&ticket={ticket}")
    async with websockets.connect(url) as ws:
        await asyncio.sleep(0.1)
        await post_inbound(omni.client, ch, secret, inbound("u", "m2", "over ws"))
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert event["data"]["text"] == "over ws"


async def test_tickets_are_for_event_streams_only_and_expire(omni: OmniServer) -> None:
    ticket = await _ticket(omni)
    async with _bare(omni) as client:
        elsewhere = await client.get("/v1/threads", params={"ticket": ticket})
        assert elsewhere.status_code == 401
        as_key = await client.get("/v1/threads", headers={"Authorization": f"Bearer {ticket}"})
        assert as_key.status_code == 401
        admin = Principal(name="bootstrap-admin", role="admin", key_id=None)
        stale = issue_ticket(omni.core.secret_key, admin, now=time.time() - 61).value
        forged = ticket[:-4] + ("AAAA" if not ticket.endswith("AAAA") else "BBBB")
        for bad, reason in ((stale, "expired"), (forged, "signature"), ("junk", "not an")):
            answer = await client.get("/v1/events", params={"ticket": bad})
            assert answer.status_code == 401
            assert reason in answer.json()["detail"]


async def test_a_revoked_keys_tickets_stop_working(omni: OmniServer) -> None:
    created = (await omni.client.post("/v1/keys", json={"name": "ann", "role": "agent"})).json()
    ticket = await _ticket(omni, created["key"])
    assert (await omni.client.delete(f"/v1/keys/{created['id']}")).status_code == 204
    omni.app.state.key_cache = KeyCache()  # what the cache's TTL does within seconds
    async with _bare(omni) as client:
        answer = await client.get("/v1/events", params={"ticket": ticket})
    assert answer.status_code == 401
    assert "revoked" in answer.json()["detail"]


async def test_tickets_and_keys_never_reach_the_access_log(omni: OmniServer) -> None:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    loggers = [logging.getLogger(n) for n in ("uvicorn.access", "uvicorn.error")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    try:
        ticket = await _ticket(omni)
        async with _bare(omni) as client:
            async with client.stream("GET", "/v1/events", params={"ticket": ticket}) as sse:
                assert sse.status_code == 200
            await client.get("/v1/threads", params={"access_token": ADMIN_KEY})
        url = omni.url.replace("http://", "ws://") + f"/v1/events/ws?ticket={ticket}"
        async with websockets.connect(url):
            pass
        await asyncio.sleep(0.1)
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
    logged = "\n".join(lines)
    assert "/v1/events?ticket=[redacted]" in logged
    assert "access_token=[redacted]" in logged
    assert ticket not in logged and ADMIN_KEY not in logged
