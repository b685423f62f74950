"""Who sees what: one rule, checked endpoint by endpoint for every kind of caller.

Teams A and B. Threads: tA (team A), tA2 (team A, assigned to X, an agent of team B), tB
(team B), tU (unrouted). Callers: the admin, a supervisor of A, an agent of A, an agent of B,
X, and a key that belongs to no agent. What may not be seen answers 404, like what does not
exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import httpx
import websockets

from tests.apichannel import inbound, post_inbound
from tests.omni import ADMIN_KEY, OmniServer
from tests.people import api_channel, client_for, eventually, make_agent, make_key, make_team, route

THREADS = ("A", "A2", "B", "U")
SEES = {
    "admin": {"A", "A2", "B", "U"},
    "supervisor_a": {"A", "A2", "U"},
    "agent_a": {"A", "A2", "U"},
    "agent_b": {"B", "U"},
    "x": {"A2", "B", "U"},
    "nobody": {"U"},
}


@dataclass
class World:
    keys: dict[str, str]
    agents: dict[str, int]
    teams: dict[str, int]
    thread: dict[str, int]
    customer: dict[str, int]
    message: dict[str, int]


async def build(omni: OmniServer) -> World:
    a, b = await make_team(omni, "A"), await make_team(omni, "B")
    people = {"supervisor_a": ("supervisor", a), "agent_a": ("agent", a),
              "agent_b": ("agent", b), "x": ("agent", b)}
    agents: dict[str, int] = {}
    keys = {"admin": ADMIN_KEY, "nobody": await make_key(omni, "nobody", role="supervisor")}
    for name, (role, team) in people.items():
        agents[name] = (await make_agent(omni, name, role=role, team_ids=[team["id"]]))["id"]
        keys[name] = await make_key(omni, name, agent_id=agents[name])
    ch, secret = await api_channel(omni)
    for name in THREADS:
        attachment = {"url": "https://files.invalid/x.png", "mime_type": "image/png"}
        response = await post_inbound(omni.client, ch, secret, inbound(
            f"user-{name}", f"m-{name}", f"about {name}", name=f"Customer {name}",
            attachments=[attachment]))
        assert response.status_code in (200, 202)
    await omni.settle()
    thread: dict[str, int] = {}
    customer: dict[str, int] = {}
    message: dict[str, int] = {}
    for item in (await omni.client.get("/v1/threads")).json()["items"]:
        messages = (await omni.client.get(f"/v1/threads/{item['id']}/messages")).json()
        name = messages["items"][0]["text"].removeprefix("about ")
        thread[name], customer[name] = item["id"], item["customer_id"]
        message[name] = messages["items"][0]["id"]
    await route(omni, thread["A"], a["id"])
    await route(omni, thread["A2"], a["id"], agents["x"])
    await route(omni, thread["B"], b["id"])
    return World(keys, agents, {"A": a["id"], "B": b["id"]}, thread, customer, message)


def _names(world: World, ids: list[int], of: dict[str, int]) -> set[str]:
    back = {v: k for k, v in of.items()}
    return {back[i] for i in ids if i in back}


async def test_every_scoped_endpoint_shows_exactly_what_the_caller_may_see(
        omni: OmniServer) -> None:
    world = await build(omni)
    for who, sees in SEES.items():
        async with client_for(omni, world.keys[who]) as client:
            listed = (await client.get("/v1/threads")).json()["items"]
            assert _names(world, [t["id"] for t in listed], world.thread) == sees, who
            assert len(listed) == len(sees)
            customers = (await client.get("/v1/customers")).json()["items"]
            assert _names(world, [c["id"] for c in customers], world.customer) == sees, who
            for name in THREADS:
                t, c, m = world.thread[name], world.customer[name], world.message[name]
                visible = name in sees
                ok = {True: "visible", False: "hidden"}[visible]
                answers = {
                    "thread": (await client.get(f"/v1/threads/{t}")).status_code,
                    "patch": (await client.patch(f"/v1/threads/{t}",
                                                 json={"tags": ["seen"]})).status_code,
                    "messages": (await client.get(f"/v1/threads/{t}/messages")).status_code,
                    "reply": (await client.post(f"/v1/threads/{t}/messages", json={
                        "text": f"note by {who}", "internal": True})).status_code,
                    "typing": (await client.post(f"/v1/threads/{t}/typing")).status_code,
                    "customer": (await client.get(f"/v1/customers/{c}")).status_code,
                    "suggestions": (await client.get(
                        f"/v1/customers/{c}/suggestions")).status_code,
                    "merges": (await client.get(f"/v1/customers/{c}/merges")).status_code,
                    "raw": (await client.get(f"/v1/messages/{m}/raw")).status_code,
                    # Found and allowed, then fetched from the provider (which fails here:
                    # nothing listens on port 9), or hidden: 404.
                    "attachment": 404 if (await client.get(
                        f"/v1/attachments/{m}-0")).status_code == 404 else "fetched",
                }
                if visible:
                    expected = {"thread": 200, "patch": 200, "messages": 200, "reply": 201,
                                "typing": 204, "customer": 200, "suggestions": 200,
                                "merges": 200, "raw": 200, "attachment": "fetched"}
                else:
                    expected = dict.fromkeys(answers, 404)
                assert answers == expected, (who, name, ok)
    # Notes were added only where allowed: a hidden thread never got one.
    async with client_for(omni, ADMIN_KEY) as admin:
        for name in THREADS:
            notes = {m["text"] for m in (await admin.get(
                f"/v1/threads/{world.thread[name]}/messages")).json()["items"]
                if m["direction"] == "note"}
            assert notes == {f"note by {who}" for who, sees in SEES.items() if name in sees}


async def test_thread_filters_stay_inside_the_scope(omni: OmniServer) -> None:
    world = await build(omni)
    async with client_for(omni, world.keys["x"]) as x:
        mine = (await x.get("/v1/threads", params={"assignee_id": "me"})).json()["items"]
        assert _names(world, [t["id"] for t in mine], world.thread) == {"A2"}
        team_a = (await x.get("/v1/threads", params={"team_id": world.teams["A"]})).json()
        assert _names(world, [t["id"] for t in team_a["items"]], world.thread) == {"A2"}
    async with client_for(omni, world.keys["nobody"]) as nobody:
        refused = await nobody.get("/v1/threads", params={"assignee_id": "me"})
        assert refused.status_code == 422
        assert "assignee_id" in [e["field"] for e in refused.json()["errors"]]


async def test_merges_need_both_customers_in_scope(omni: OmniServer) -> None:
    world = await build(omni)
    c = world.customer
    async with client_for(omni, world.keys["agent_b"]) as b_client, \
            client_for(omni, world.keys["agent_a"]) as a_client:
        into_hidden = await b_client.post(f"/v1/customers/{c['A']}/merge",
                                          json={"other_customer_id": c["U"]})
        assert into_hidden.status_code == 404
        hidden_in = await b_client.post(f"/v1/customers/{c['U']}/merge",
                                        json={"other_customer_id": c["A"]})
        assert hidden_in.status_code == 404
        merged = await a_client.post(f"/v1/customers/{c['A']}/merge",
                                     json={"other_customer_id": c["U"]})
        assert merged.status_code == 201, merged.text
        merge_id = merged.json()["id"]
        assert (await b_client.post(f"/v1/merges/{merge_id}/undo")).status_code == 404
        assert (await a_client.post(f"/v1/merges/{merge_id}/undo")).status_code == 200
        assert (await a_client.post("/v1/merges/987654/undo")).status_code == 404


@contextlib.asynccontextmanager
async def sse(omni: OmniServer, key: str, received: list[dict[str, Any]]) -> Any:
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
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await task


async def test_the_live_stream_carries_only_what_the_viewer_may_see(omni: OmniServer) -> None:
    world = await build(omni)
    streams: dict[str, list[dict[str, Any]]] = {who: [] for who in SEES}
    ws_events: list[dict[str, Any]] = []

    def notes(events: list[dict[str, Any]], marker: str) -> set[str]:
        return {e["data"]["text"].removeprefix(marker) for e in events
                if e["type"] == "message.created" and e["data"]["text"].startswith(marker)}

    async with contextlib.AsyncExitStack() as stack:
        for who in SEES:
            await stack.enter_async_context(sse(omni, world.keys[who], streams[who]))
        url = omni.url.replace("http://", "ws://") + "/v1/events/ws"
        ws = await stack.enter_async_context(websockets.connect(
            url, additional_headers={"Authorization": f"Bearer {world.keys['agent_b']}"}))

        async def pump() -> None:
            async for frame in ws:
                ws_events.append(json.loads(frame))
        pumping = asyncio.create_task(pump())
        for name in THREADS:
            await omni.client.post(f"/v1/threads/{world.thread[name]}/messages",
                                   json={"text": f"first:{name}", "internal": True})
        # Events arrive in order: once everyone has this (global) one, all before it arrived.
        marker = await make_agent(omni, "marker")

        def seen_marker(events: list[dict[str, Any]]) -> bool:
            return any(e["type"] == "agent.updated" and e["data"]["id"] == marker["id"]
                       for e in events)

        await eventually(lambda: _true(all(seen_marker(s) for s in streams.values())
                                       and seen_marker(ws_events)))
        for who, sees in SEES.items():
            assert notes(streams[who], "first:") == sees, who
            scoped = [e for e in streams[who] if "thread_id" in e["data"]]
            assert all(e["data"]["team_id"] in ({world.teams["A"], world.teams["B"], None})
                       for e in scoped)
        assert notes(ws_events, "first:") == SEES["agent_b"]

        # Agent B joins team A: their open streams follow at once.
        await omni.client.patch(f"/v1/agents/{world.agents['agent_b']}",
                                json={"team_ids": [world.teams["A"], world.teams["B"]]})
        await omni.client.post(f"/v1/threads/{world.thread['A']}/messages",
                               json={"text": "second:A", "internal": True})
        await eventually(lambda: _true(notes(streams["agent_b"], "second:") == {"A"}
                                       and notes(ws_events, "second:") == {"A"}))
        assert notes(streams["agent_b"], "second:") == {"A"}
        pumping.cancel()


async def _true(value: bool) -> bool:
    return value
