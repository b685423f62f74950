"""Experiments over HTTP, and a new case getting its bucket and the bucket's policy."""

from __future__ import annotations

from typing import Any

import pytest

from tests.omni import OmniServer
from tests.router.sla.helpers import case_row, make_policy, open_case


async def test_lifecycle_and_bucketed_cases(omni: OmniServer) -> None:
    fast = await make_policy(omni, targets=[{"first_response_seconds": 600}])
    slow = await make_policy(omni, targets=[{"first_response_seconds": 6000}])
    body = {"name": "mail SLA", "filter": {"channel_types": ["email"]},
            "buckets": [{"name": "fast", "weight": 1, "sla_policy_id": fast["id"]},
                        {"name": "slow", "weight": 1, "sla_policy_id": slow["id"]}]}
    created = await omni.client.post("/v1/experiments", json=body)
    assert created.status_code == 201, created.text
    exp = created.json()
    assert exp["status"] == "draft"
    before = await open_case(omni.core, "email")  # not running yet: no bucket
    assert (await case_row(omni.core, before)).experiment_id is None
    started = await omni.client.post(f"/v1/experiments/{exp['id']}/start")
    assert started.json()["status"] == "running"
    assert (await omni.client.post(f"/v1/experiments/{exp['id']}/start")).status_code == 409
    ids = [await open_case(omni.core, "email") for _ in range(6)]
    chat = await open_case(omni.core, "webchat")
    assert (await case_row(omni.core, chat)).experiment_id is None
    policies = {"fast": fast["id"], "slow": slow["id"]}
    for case_id in ids:
        case = await case_row(omni.core, case_id)
        assert case.experiment_id == exp["id"] and case.experiment_bucket in policies
        assert case.sla_policy_id == policies[case.experiment_bucket]
    stopped = await omni.client.post(f"/v1/experiments/{exp['id']}/stop")
    assert stopped.json()["status"] == "stopped"
    assert (await case_row(omni.core, ids[0])).experiment_id == exp["id"]  # records kept
    after = await open_case(omni.core, "email")
    assert (await case_row(omni.core, after)).experiment_id is None
    listed = (await omni.client.get("/v1/experiments")).json()
    assert [e["id"] for e in listed["items"]] == [exp["id"]]
    report = (await omni.client.get(f"/v1/experiments/{exp['id']}/report")).json()
    assert sum(b["cases"] for b in report["buckets"]) == 6


BAD: list[tuple[dict[str, Any], str]] = [
    ({"buckets": [{"name": "a", "weight": 1, "sla_policy_id": 999},
                  {"name": "b", "weight": 1, "sla_policy_id": 999}]}, "buckets[0].sla_policy_id"),
    ({"filter": {"channel_types": ["fax"]}}, "filter.channel_types"),
    ({"filter": {"team_id": 999}}, "filter.team_id"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
async def test_bad_experiments_are_422(omni: OmniServer, change: dict[str, Any],
                                       field: str) -> None:
    policy = await make_policy(omni, targets=[{"first_response_seconds": 60}])
    body = {"name": "e", "buckets": [{"name": "a", "weight": 1, "sla_policy_id": policy["id"]},
                                     {"name": "b", "weight": 1, "sla_policy_id": policy["id"]}],
            **change}
    response = await omni.client.post("/v1/experiments", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


async def test_one_bucket_or_same_names_are_refused(omni: OmniServer) -> None:
    policy = await make_policy(omni, targets=[{"first_response_seconds": 60}])
    one = {"name": "a", "weight": 1, "sla_policy_id": policy["id"]}
    assert (await omni.client.post("/v1/experiments", json={
        "name": "e", "buckets": [one]})).status_code == 422
    assert (await omni.client.post("/v1/experiments", json={
        "name": "e", "buckets": [one, one]})).status_code == 422
    assert (await omni.client.post("/v1/experiments/5/stop")).status_code == 404
