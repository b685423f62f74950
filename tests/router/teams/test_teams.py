"""Teams: lines of support whose members, calendar, SLA policy and overflow must exist."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from router.models import BusinessHours, Case, Rule, SlaPolicy
from tests.omni import OmniServer
from tests.people import (
    api_channel,
    client_for,
    customer_thread,
    make_agent,
    make_key,
    make_team,
)


async def _calendar_and_policy(omni: OmniServer) -> tuple[int, int]:
    async with omni.core.unit() as session:
        hours = BusinessHours(name="Office", timezone="Europe/Moscow", weekly={}, holidays=[])
        session.add(hours)
        await session.flush()
        policy = SlaPolicy(name="Std", business_hours_id=hours.id, targets=[], on_breach=[])
        session.add(policy)
        await session.flush()
        return hours.id, policy.id


async def test_a_team_is_created_read_listed_changed(omni: OmniServer) -> None:
    hours, policy = await _calendar_and_policy(omni)
    ada = await make_agent(omni, "Ada")
    bob = await make_agent(omni, "Bob")
    line2 = await make_team(omni, "Line 2", line=2, strategy="manual")
    team = await make_team(omni, "Line 1", strategy="least_loaded", sticky=True,
                           member_ids=[bob["id"], ada["id"], ada["id"]],
                           business_hours_id=hours, sla_policy_id=policy,
                           overflow_team_id=line2["id"], overflow_after_seconds=600,
                           release_on_offline=True)
    expected = {"name": "Line 1", "line": 1, "strategy": "least_loaded", "sticky": True,
                "member_ids": sorted([ada["id"], bob["id"]]), "business_hours_id": hours,
                "sla_policy_id": policy, "overflow_team_id": line2["id"],
                "overflow_after_seconds": 600, "release_on_offline": True}
    assert {k: team[k] for k in expected} == expected
    assert (await omni.client.get(f"/v1/teams/{team['id']}")).json() == team
    listed = (await omni.client.get("/v1/teams")).json()["items"]
    assert [t["name"] for t in listed] == ["Line 2", "Line 1"]
    assert (await omni.client.get(f"/v1/agents/{ada['id']}")).json()["team_ids"] == [team["id"]]

    changed = await omni.client.patch(f"/v1/teams/{team['id']}", json={
        "strategy": "round_robin", "member_ids": [ada["id"]], "overflow_team_id": None,
        "sla_policy_id": None})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["strategy"], body["member_ids"], body["overflow_team_id"],
            body["sla_policy_id"], body["business_hours_id"]) == (
        "round_robin", [ada["id"]], None, None, hours)
    assert (await omni.client.get(f"/v1/agents/{bob['id']}")).json()["team_ids"] == []


async def _refused(omni: OmniServer, method: str, path: str, body: dict[str, Any],
                   field: str) -> str:
    response = await omni.client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json().get("errors", [])], response.json()
    detail: str = response.json()["detail"]
    return detail


async def test_what_a_team_points_at_must_exist_and_overflow_never_circles(
        omni: OmniServer) -> None:
    a = await make_team(omni, "A")
    b = await make_team(omni, "B", overflow_team_id=a["id"], overflow_after_seconds=60)
    assert "4242" in await _refused(omni, "POST", "/v1/teams",
                                    {"name": "X", "member_ids": [4242]}, "member_ids")
    await _refused(omni, "POST", "/v1/teams", {"name": "X", "business_hours_id": 7},
                   "business_hours_id")
    await _refused(omni, "POST", "/v1/teams", {"name": "X", "sla_policy_id": 7},
                   "sla_policy_id")
    await _refused(omni, "POST", "/v1/teams", {"name": "X", "overflow_team_id": 777,
                                               "overflow_after_seconds": 5}, "overflow_team_id")
    await _refused(omni, "POST", "/v1/teams", {"name": "X", "overflow_team_id": a["id"]},
                   "overflow_after_seconds")
    await _refused(omni, "PATCH", f"/v1/teams/{a['id']}",
                   {"overflow_team_id": a["id"], "overflow_after_seconds": 5}, "overflow_team_id")
    circle = await _refused(omni, "PATCH", f"/v1/teams/{a['id']}",
                            {"overflow_team_id": b["id"], "overflow_after_seconds": 5},
                            "overflow_team_id")
    assert f"{a['id']} → {b['id']} → {a['id']}" in circle
    bad = await omni.client.post("/v1/teams", json={"name": "X", "strategy": "lottery"})
    assert bad.status_code == 422
    assert (await omni.client.post("/v1/teams", json={"name": "X", "line": 0})
            ).status_code == 422
    assert (await omni.client.post("/v1/teams", json={"name": " A "})).status_code == 409
    assert [t["name"] for t in (await omni.client.get("/v1/teams")).json()["items"]] == ["A", "B"]
    assert (await omni.client.get(f"/v1/teams/{a['id']}")).json()["overflow_team_id"] is None


async def test_deleting_a_team_refuses_to_lose_work_then_frees_its_name(
        omni: OmniServer) -> None:
    ada = await make_agent(omni, "Ada")
    team = await make_team(omni, "Line 1", member_ids=[ada["id"]])
    t = team["id"]
    other = await make_team(omni, "Line 2", overflow_team_id=t, overflow_after_seconds=60)
    channel = await api_channel(omni)
    thread = await customer_thread(omni, channel, "u1")
    async with omni.core.unit() as session:
        case = (await session.execute(insert(Case).returning(Case.id), [{
            "thread_id": thread["id"], "customer_id": thread["customer_id"], "status": "open",
            "team_id": t, "tags": [], "breaches": []}])).scalar_one()
        rule = Rule(name="vip", when={}, then=[{"action": "set_team", "value": t}])
        session.add(rule)
    refused = await omni.client.delete(f"/v1/teams/{t}")
    assert refused.status_code == 409
    blockers = refused.json()["blockers"]
    assert len(blockers) == 3 and "1 open or pending case" in blockers[0]
    assert str(other["id"]) in blockers[1]

    async with omni.core.unit() as session:
        resolved = await session.get(Case, case)
        assert resolved is not None
        resolved.status = "resolved"
        await session.delete(await session.get(Rule, rule.id))
    await omni.client.patch(f"/v1/teams/{other['id']}", json={"overflow_team_id": None})
    assert (await omni.client.delete(f"/v1/teams/{t}")).status_code == 204
    assert (await omni.client.get(f"/v1/teams/{t}")).status_code == 404
    assert (await omni.client.patch(f"/v1/teams/{t}", json={"line": 2})).status_code == 404
    assert (await omni.client.delete(f"/v1/teams/{t}")).status_code == 404
    assert (await omni.client.get(f"/v1/agents/{ada['id']}")).json()["team_ids"] == []
    assert [x["name"] for x in (await omni.client.get("/v1/teams")).json()["items"]] == [
        "Line 2"]
    again = await make_team(omni, "Line 1")
    assert again["id"] != t
    # A deleted team takes no members and is no overflow target.
    assert (await omni.client.patch(f"/v1/agents/{ada['id']}", json={"team_ids": [t]})
            ).status_code == 422
    assert (await omni.client.patch(f"/v1/teams/{other['id']}", json={
        "overflow_team_id": t, "overflow_after_seconds": 9})).status_code == 422


async def test_supervisors_and_admins_manage_teams_agents_read_them(omni: OmniServer) -> None:
    lead = await make_agent(omni, "Lead", role="supervisor")
    worker = await make_agent(omni, "Worker")
    async with client_for(omni, await make_key(omni, "l", agent_id=lead["id"])) as sup, \
            client_for(omni, await make_key(omni, "w", agent_id=worker["id"])) as agent:
        created = await sup.post("/v1/teams", json={"name": "T"})
        assert created.status_code == 201
        t = created.json()["id"]
        assert (await agent.post("/v1/teams", json={"name": "U"})).status_code == 403
        assert (await agent.patch(f"/v1/teams/{t}", json={"line": 2})).status_code == 403
        assert (await agent.delete(f"/v1/teams/{t}")).status_code == 403
        assert (await agent.get(f"/v1/teams/{t}")).status_code == 200
        assert (await agent.get("/v1/teams")).status_code == 200
        assert (await sup.patch(f"/v1/teams/{t}", json={"line": 2})).status_code == 200
        assert (await sup.delete(f"/v1/teams/{t}")).status_code == 204
