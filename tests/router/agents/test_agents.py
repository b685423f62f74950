"""Agents: creation and changes, capacity checked against the connectors, load, who may."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert

from router.models import Case
from tests.omni import OmniServer
from tests.people import (
    api_channel,
    client_for,
    customer_thread,
    make_agent,
    make_key,
    make_team,
)


async def test_an_agent_is_created_read_listed_and_changed(omni: OmniServer) -> None:
    team = await make_team(omni, "Line 1")
    agent = await make_agent(omni, "Ada", email=" Ada@Example.COM ",
                             capacity={"default": 3, "email": 20, "webchat": 2},
                             skills=["billing", "billing", "ru"], team_ids=[team["id"]])
    assert agent["email"] == "ada@example.com"
    assert agent["role"] == "agent" and agent["presence"] == "offline" and agent["active"]
    assert agent["capacity"] == {"default": 3, "email": 20, "webchat": 2}
    assert agent["skills"] == ["billing", "ru"]
    assert agent["team_ids"] == [team["id"]]
    assert agent["open_cases"] == 0 and agent["open_cases_by_channel"] == {}

    got = (await omni.client.get(f"/v1/agents/{agent['id']}")).json()
    assert got == agent
    await make_agent(omni, "Bob")
    listed = (await omni.client.get("/v1/agents", params={"limit": 1})).json()
    assert [a["name"] for a in listed["items"]] == ["Ada"]
    rest = (await omni.client.get("/v1/agents",
                                  params={"cursor": listed["next_cursor"]})).json()
    assert [a["name"] for a in rest["items"]] == ["Bob"] and rest["next_cursor"] is None
    in_team = (await omni.client.get("/v1/agents", params={"team_id": team["id"]})).json()
    assert [a["name"] for a in in_team["items"]] == ["Ada"]

    changed = await omni.client.patch(f"/v1/agents/{agent['id']}", json={
        "name": "Ada L.", "capacity": {"default": 5}, "team_ids": [], "role": "supervisor"})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["capacity"], body["team_ids"], body["role"]) == (
        "Ada L.", {"default": 5}, [], "supervisor")
    team_now = (await omni.client.get(f"/v1/teams/{team['id']}")).json()
    assert team_now["member_ids"] == []


@pytest.mark.parametrize(("capacity", "field"), [
    ({"carrier-pigeon": 1}, "capacity.carrier-pigeon"),
    ({"default": -1}, None),
    ({"default": "many"}, None),
    ({"email": 1.5}, None),
])
async def test_capacity_names_real_channel_types_and_non_negative_counts(
        omni: OmniServer, capacity: dict[str, Any], field: str | None) -> None:
    response = await omni.client.post("/v1/agents", json={"name": "X", "capacity": capacity})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in [e["field"] for e in response.json()["errors"]]
        assert "carrier-pigeon" in response.json()["detail"]
    assert (await omni.client.get("/v1/agents")).json()["items"] == []


async def test_bad_agent_input_is_a_clear_4xx_and_changes_nothing(omni: OmniServer) -> None:
    await make_agent(omni, "Ada", email="ada@example.com")
    twice = await omni.client.post("/v1/agents", json={"name": "A2", "email": "ADA@example.com"})
    assert twice.status_code == 409
    bad_mail = await omni.client.post("/v1/agents", json={"name": "A3", "email": "nope"})
    assert bad_mail.status_code == 422
    no_team = await omni.client.post("/v1/agents", json={"name": "A4", "team_ids": [999]})
    assert no_team.status_code == 422 and "999" in no_team.json()["detail"]
    huge = await omni.client.patch("/v1/agents/99999999999999999999")
    assert huge.status_code in (404, 422)
    missing = await omni.client.get("/v1/agents/12345")
    assert missing.status_code == 404
    names = [a["name"] for a in (await omni.client.get("/v1/agents")).json()["items"]]
    assert names == ["Ada"]


async def test_open_cases_count_open_and_pending_per_channel_type(omni: OmniServer) -> None:
    agent = await make_agent(omni, "Ada")
    channel = await api_channel(omni)
    thread = await customer_thread(omni, channel, "u1")
    rows = [("open", "telegram"), ("pending", "telegram"), ("open", "email"),
            ("resolved", "email")]
    async with omni.core.unit() as session:
        await session.execute(insert(Case), [
            {"thread_id": thread["id"], "customer_id": thread["customer_id"], "status": s,
             "channel_type": t, "assignee_id": agent["id"], "tags": [], "breaches": []}
            for s, t in rows])
    got = (await omni.client.get(f"/v1/agents/{agent['id']}")).json()
    assert got["open_cases"] == 3
    assert got["open_cases_by_channel"] == {"telegram": 2, "email": 1}


async def test_who_may_manage_agents(omni: OmniServer) -> None:
    lead = await make_agent(omni, "Lead", role="supervisor")
    worker = await make_agent(omni, "Worker")
    boss = await make_agent(omni, "Boss", role="admin")
    async with client_for(omni, await make_key(omni, "lead", agent_id=lead["id"])) as sup, \
            client_for(omni, await make_key(omni, "w", agent_id=worker["id"])) as agent:
        assert (await agent.get("/v1/agents")).status_code == 200
        assert (await agent.get(f"/v1/agents/{lead['id']}")).status_code == 200
        assert (await agent.post("/v1/agents", json={"name": "N"})).status_code == 403
        assert (await agent.patch(f"/v1/agents/{worker['id']}",
                                  json={"capacity": {"default": 99}})).status_code == 403
        assert (await sup.post("/v1/agents", json={"name": "N"})).status_code == 201
        assert (await sup.patch(f"/v1/agents/{worker['id']}",
                                json={"capacity": {"default": 9}})).status_code == 200
        # A supervisor neither makes admins nor changes them.
        assert (await sup.post("/v1/agents", json={"name": "A", "role": "admin"})
                ).status_code == 403
        assert (await sup.patch(f"/v1/agents/{worker['id']}", json={"role": "admin"})
                ).status_code == 403
        assert (await sup.patch(f"/v1/agents/{boss['id']}", json={"name": "B"})
                ).status_code == 403
    assert (await omni.client.get(f"/v1/agents/{boss['id']}")).json()["name"] == "Boss"
