"""Business hours and SLA policies over HTTP: shapes, validation 422s, roles."""

from __future__ import annotations

from typing import Any

import pytest

from router.auth.keys import new_key
from router.crypto import hash_api_key
from router.models import ApiKey
from tests.omni import OmniServer
from tests.router.sla.helpers import make_agent, make_team

HOURS = {"name": "Berlin office", "timezone": "Europe/Berlin",
         "weekly": {"mon": [["09:00", "13:00"], ["14:00", "18:00"]], "fri": [["09:00", "17:00"]]},
         "holidays": ["2026-12-24"], "holiday_country": "de"}


async def agent_key(omni: OmniServer) -> dict[str, str]:
    key = new_key()
    async with omni.core.unit() as session:
        session.add(ApiKey(name="agent", role="agent", key_hash=hash_api_key(key), prefix=key[:12]))
    return {"Authorization": f"Bearer {key}"}


async def test_business_hours_round_trip(omni: OmniServer) -> None:
    created = await omni.client.post("/v1/business-hours", json=HOURS)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["holiday_country"] == "DE" and body["weekly"] == HOURS["weekly"]
    listed = (await omni.client.get("/v1/business-hours")).json()
    assert [h["id"] for h in listed["items"]] == [body["id"]] and listed["next_cursor"] is None
    patched = await omni.client.patch(f"/v1/business-hours/{body['id']}",
                                      json={"holiday_country": None, "name": "B"})
    assert patched.status_code == 200 and patched.json()["holiday_country"] is None
    policy = await omni.client.post("/v1/sla-policies", json={
        "name": "mail", "business_hours_id": body["id"],
        "targets": [{"channel_type": "email", "first_response_seconds": 14400}]})
    assert policy.status_code == 201, policy.text
    refused = await omni.client.delete(f"/v1/business-hours/{body['id']}")
    assert refused.status_code == 409
    other = (await omni.client.post("/v1/business-hours", json=HOURS)).json()
    assert (await omni.client.delete(f"/v1/business-hours/{other['id']}")).status_code == 204
    assert (await omni.client.get(f"/v1/business-hours/{other['id']}")).status_code == 404


BAD_HOURS: list[tuple[dict[str, Any], str]] = [
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"weekly": {"mon": [["9:00", "18:00"]]}}, "weekly"),
    ({"weekly": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "weekly"),
    ({"weekly": {"mon": [["22:00", "06:00"]]}}, "weekly"),
    ({"holidays": ["2026-13-01"]}, "holidays"),
    ({"holiday_country": "ZZ"}, "holiday_country"),
]


@pytest.mark.parametrize(("change", "field"), BAD_HOURS)
async def test_bad_business_hours_are_422(omni: OmniServer, change: dict[str, Any],
                                          field: str) -> None:
    response = await omni.client.post("/v1/business-hours", json={**HOURS, **change})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    assert (await omni.client.get("/v1/business-hours")).json()["items"] == []


async def test_policy_round_trip_and_one_default(omni: OmniServer) -> None:
    team = await make_team(omni.core, "line 2")
    boss = await make_agent(omni.core, "Boss", "supervisor")
    body = {"name": "standard", "warn_before_seconds": 600, "default": True,
            "targets": [{"channel_type": "email", "priority": "urgent",
                         "first_response_seconds": 3600},
                        {"resolution_seconds": 86400}],
            "on_breach": [{"action": "transfer_team", "value": team},
                          {"action": "notify_supervisor", "value": boss},
                          {"action": "raise_priority", "value": "urgent"},
                          {"action": "add_tag", "value": "sla", "metrics": ["resolution"]}]}
    first = (await omni.client.post("/v1/sla-policies", json=body)).json()
    assert first["default"] is True and first["targets"] == body["targets"]
    second = (await omni.client.post("/v1/sla-policies", json=body)).json()
    assert (await omni.client.get(f"/v1/sla-policies/{first['id']}")).json()["default"] is False
    patched = await omni.client.patch(f"/v1/sla-policies/{second['id']}",
                                      json={"warn_before_seconds": 0, "name": "renamed"})
    assert patched.json()["warn_before_seconds"] == 0 and patched.json()["name"] == "renamed"
    listed = (await omni.client.get("/v1/sla-policies?limit=1")).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]


BAD_POLICIES: list[tuple[dict[str, Any], str]] = [
    ({"targets": [{"channel_type": "fax", "first_response_seconds": 60}]},
     "targets[0].channel_type"),
    ({"targets": [{"priority": "asap", "first_response_seconds": 60}]}, "targets[0].priority"),
    ({"targets": [{"first_response_seconds": -5}]}, "targets[0].first_response_seconds"),
    ({"targets": [{"channel_type": "email"}]}, "targets[0]"),
    ({"warn_before_seconds": -1}, "warn_before_seconds"),
    ({"business_hours_id": 999}, "business_hours_id"),
    ({"on_breach": [{"action": "explode"}]}, "on_breach[0].action"),
    ({"on_breach": [{"action": "transfer_team", "value": 999}]}, "on_breach[0].value"),
    ({"on_breach": [{"action": "notify_supervisor", "value": 999}]}, "on_breach[0].value"),
    ({"on_breach": [{"action": "raise_priority", "value": "highest"}]}, "on_breach[0].value"),
    ({"on_breach": [{"action": "add_tag"}]}, "on_breach[0].value"),
    ({"on_breach": [{"action": "add_tag", "value": "x", "metrics": ["csat"]}]},
     "on_breach[0].metrics"),
]


@pytest.mark.parametrize(("body", "field"), BAD_POLICIES)
async def test_bad_policies_are_422(omni: OmniServer, body: dict[str, Any], field: str) -> None:
    response = await omni.client.post("/v1/sla-policies", json={"name": "p", **body})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_an_agent_cannot_notify_as_a_supervisor(omni: OmniServer) -> None:
    agent = await make_agent(omni.core, "Ann", "agent")
    response = await omni.client.post("/v1/sla-policies", json={
        "name": "p", "on_breach": [{"action": "notify_supervisor", "value": agent}]})
    assert response.status_code == 422


async def test_agents_read_but_do_not_write(omni: OmniServer) -> None:
    headers = await agent_key(omni)
    assert (await omni.client.get("/v1/sla-policies", headers=headers)).status_code == 200
    assert (await omni.client.get("/v1/business-hours", headers=headers)).status_code == 200
    assert (await omni.client.post("/v1/sla-policies", json={"name": "p"},
                                   headers=headers)).status_code == 403
    assert (await omni.client.post("/v1/business-hours", json=HOURS,
                                   headers=headers)).status_code == 403
    assert (await omni.client.get("/v1/sla-policies/99999999999999999999")).status_code == 422
