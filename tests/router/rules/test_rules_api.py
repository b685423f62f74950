# ruff: noqa: RUF001  (customers write in Russian; the rules must match it)
"""/v1/rules: CRUD, ordering, validation 422s that name the problem, roles, and the dry run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.omni import OmniServer
from tests.router.rules.helpers import client_with_role, cond, make_targets, rule

HIGH = [{"action": "set_priority", "value": "high"}]


async def _create(omni: OmniServer, body: dict[str, Any]) -> dict[str, Any]:
    response = await omni.client.post("/v1/rules", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _dry(omni: OmniServer, **body: Any) -> dict[str, Any]:
    response = await omni.client.post("/v1/rules/test", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_complaints_from_paid_customers_go_to_line_2(omni: OmniServer) -> None:
    ids = await make_targets(omni)
    channel = await omni.create_channel("api", "crm bot", {"trusted": True})
    body = rule("Paid complaints → line 2",
                {"all": [cond("customer.tier", "eq", "paid"),
                         cond("message.text", "contains_any", ["complaint", "жалоба"])]},
                [{"action": "set_team", "value": ids["team"]},
                 {"action": "set_priority", "value": "high"},
                 {"action": "add_tags", "value": ["complaint", " complaint "]},
                 {"action": "set_sla_policy", "value": ids["policy"]},
                 {"action": "assign_agent", "value": ids["agent"]}])
    created = await _create(omni, body)
    assert created["position"] == 0 and created["enabled"] is True
    assert created["then"][2] == {"action": "add_tags", "value": ["complaint"]}
    assert (await omni.client.get(f"/v1/rules/{created['id']}")).json() == created

    # A paid customer (set through PATCH) with a complaint hits it; text alone does not.
    async with omni.core.unit() as session:
        from router.customers.repository import new_customer

        customer, _ = await new_customer(session, "Olga")
        customer.tier = "Paid"
        customer_id = customer.id
    hit = await _dry(omni, channel_id=channel["id"], text="У меня ЖАЛОБА на доставку",
                     customer_id=customer_id)
    assert hit["rule_id"] == created["id"]
    assert hit["rule_name"] == "Paid complaints → line 2"
    assert hit["actions"][0] == {"action": "set_team", "value": ids["team"]}
    miss = await _dry(omni, channel_id=channel["id"], text="У меня жалоба")
    assert miss == {"rule_id": None, "rule_name": None, "actions": []}


async def test_order_by_position_first_match_wins_disabled_skipped(omni: OmniServer) -> None:
    channel = await omni.create_channel("api", "bot", {})
    later = await _create(omni, rule("catch-all", {"all": []},
                                     [{"action": "add_tags", "value": ["general"]}],
                                     position=20))
    refund = await _create(omni, rule("refunds", {"all": [cond("message.text", "contains",
                                                                "refund")]}, HIGH, position=10))
    same_position = await _create(omni, rule("refunds too", {"all": [
        cond("message.text", "contains", "refund")]}, [{"action": "set_priority",
                                                         "value": "low"}], position=10))
    assert (await _dry(omni, channel_id=channel["id"], text="Refund!"))["rule_id"] == refund["id"]
    assert (await _dry(omni, channel_id=channel["id"], text="hi"))["rule_id"] == later["id"]

    await omni.client.patch(f"/v1/rules/{refund['id']}", json={"enabled": False})
    assert (await _dry(omni, channel_id=channel["id"], text="refund"))["rule_id"] == \
        same_position["id"]
    await omni.client.patch(f"/v1/rules/{later['id']}", json={"position": 1})
    assert (await _dry(omni, channel_id=channel["id"], text="refund"))["rule_id"] == later["id"]

    listed = (await omni.client.get("/v1/rules")).json()
    assert [r["id"] for r in listed["items"]] == [later["id"], refund["id"], same_position["id"]]
    enabled = (await omni.client.get("/v1/rules", params={"enabled": "true"})).json()["items"]
    assert refund["id"] not in [r["id"] for r in enabled]
    first = (await omni.client.get("/v1/rules", params={"limit": 2})).json()
    rest = (await omni.client.get("/v1/rules", params={"cursor": first["next_cursor"]})).json()
    assert [r["id"] for r in first["items"] + rest["items"]] == [r["id"] for r in listed["items"]]
    assert rest["next_cursor"] is None

    deleted = await omni.client.delete(f"/v1/rules/{later['id']}")
    assert deleted.status_code == 204
    assert (await omni.client.get(f"/v1/rules/{later['id']}")).status_code == 404
    assert (await _dry(omni, channel_id=channel["id"], text="hello"))["rule_id"] is None


async def test_new_rules_go_after_the_last(omni: OmniServer) -> None:
    await _create(omni, rule("a", {"all": []}, HIGH, position=7))
    assert (await _create(omni, rule("b", {"all": []}, HIGH)))["position"] == 8


INVALID = [
    ({"all": [cond("customer.shoe", "eq", 1)]}, HIGH, "when.all.0.field", "unknown field"),
    ({"all": [cond("message.text", "matches", "(a+)+")]}, HIGH, "when.all.0.value",
     "repeated group"),
    ({"all": [cond("message.text", "matches", "[")]}, HIGH, "when.all.0.value",
     "does not compile"),
    ({"all": [cond("message.text", "gt", 3)]}, HIGH, "when.all.0.op", "takes contains"),
    ({"all": [cond("channel.type", "eq", "fax")]}, HIGH, "when.all.0.value",
     "unknown channel type 'fax'"),
    ({"all": [cond("channel.id", "in", ["ch_nope"])]}, HIGH, "when.all.0.value",
     "channel 'ch_nope' does not exist"),
    ({"all": []}, [{"action": "set_team", "value": 999_999}], "then.0.value",
     "team 999999 does not exist"),
    ({"all": []}, [{"action": "set_sla_policy", "value": 999_999}], "then.0.value",
     "SLA policy 999999 does not exist"),
    ({"all": []}, [{"action": "assign_agent", "value": 999_999}], "then.0.value",
     "agent 999999 does not exist"),
    ({"all": []}, [{"action": "assign_agent", "value": "retired"}], "then.0.value",
     "does not exist"),
    ({"all": []}, [{"action": "launch", "value": 1}], "then.0.action", "unknown action"),
    ({"all": []}, [{"action": "set_priority", "value": 3}], "then.0.value",
     "set_priority takes"),
]


@pytest.mark.parametrize(("when", "then", "where", "says"), INVALID,
                         ids=[f"{w}-{i}" for i, (_, _, w, _) in enumerate(INVALID)])
async def test_invalid_rules_are_422_naming_the_problem_and_store_nothing(
    omni: OmniServer, when: dict[str, Any], then: list[dict[str, Any]], where: str, says: str,
) -> None:
    ids = await make_targets(omni)
    then = [{**a, "value": ids["retired"]} if a["value"] == "retired" else a for a in then]
    response = await omni.client.post("/v1/rules", json=rule("bad", when, then))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-rule")
    assert problem["errors"][0]["field"] == where
    assert says in problem["detail"]
    assert (await omni.client.get("/v1/rules")).json()["items"] == []


async def test_shape_errors_and_patches_are_validated_whole(omni: OmniServer) -> None:
    both = await omni.client.post("/v1/rules", json=rule("x", {"all": [], "any": []}, HIGH))
    assert both.status_code == 422 and "when" in both.json()["detail"]
    no_actions = await omni.client.post("/v1/rules", json=rule("x", {"all": []}, []))
    assert no_actions.status_code == 422
    created = await _create(omni, rule("ok", {"all": []}, HIGH))
    broken = await omni.client.patch(f"/v1/rules/{created['id']}", json={
        "when": {"any": [cond("thread.priority", "gt", "asap")]}})
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["field"] == "when.any.0.value"
    null_name = await omni.client.patch(f"/v1/rules/{created['id']}", json={"name": None})
    assert null_name.status_code == 422
    assert (await omni.client.get(f"/v1/rules/{created['id']}")).json() == created
    bad_cursor = await omni.client.get("/v1/rules", params={"cursor": "bm9wZQ"})
    assert bad_cursor.status_code == 400
    missing = await omni.client.patch("/v1/rules/424242", json={"enabled": False})
    assert missing.status_code == 404


async def test_supervisors_manage_agents_only_read(omni: OmniServer) -> None:
    channel = await omni.create_channel("api", "bot", {})
    agent = await client_with_role(omni, "agent")
    supervisor = await client_with_role(omni, "supervisor")
    try:
        body = rule("r", {"all": []}, HIGH)
        assert (await agent.post("/v1/rules", json=body)).status_code == 403
        made = await supervisor.post("/v1/rules", json=body)
        assert made.status_code == 201
        rule_id = made.json()["id"]
        assert (await agent.get("/v1/rules")).status_code == 200
        assert (await agent.get(f"/v1/rules/{rule_id}")).status_code == 200
        assert (await agent.patch(f"/v1/rules/{rule_id}", json={"enabled": False})
                ).status_code == 403
        assert (await agent.delete(f"/v1/rules/{rule_id}")).status_code == 403
        dry = {"channel_id": channel["id"], "text": "x"}
        assert (await agent.post("/v1/rules/test", json=dry)).status_code == 403
        assert (await supervisor.post("/v1/rules/test", json=dry)).status_code == 200
        assert (await supervisor.patch(f"/v1/rules/{rule_id}", json={"enabled": False})
                ).status_code == 200
        assert (await supervisor.delete(f"/v1/rules/{rule_id}")).status_code == 204
    finally:
        await agent.aclose()
        await supervisor.aclose()


async def test_dry_run_reads_the_customer_and_thread_and_changes_nothing(
    omni: OmniServer,
) -> None:
    channel = await omni.create_channel("api", "bot", {})
    await _create(omni, rule("vip billing after hours", {"all": [
        cond("customer.tags", "contains", "vip"), cond("thread.tags", "contains", "billing"),
        cond("customer.attributes.seats", "gt", 10), cond("customer.language", "eq", "ru"),
        cond("time.business_hours", "eq", False), cond("channel.type", "eq", "api"),
    ]}, HIGH))
    async with omni.core.unit() as session:
        from router.customers.repository import new_customer

        customer, thread = await new_customer(session, "Ivan")
        customer.tags, customer.language = ["VIP"], "ru-RU"
        customer.attributes = {"seats": 50}
        thread.tags = ["billing"]
        customer_id = customer.id
    base = {"channel_id": channel["id"], "text": "?", "customer_id": customer_id}
    assert (await _dry(omni, **base, business_hours=False))["rule_id"] is not None
    assert (await _dry(omni, **base, business_hours=True))["rule_id"] is None
    assert (await _dry(omni, **base))["rule_id"] is None  # unknown hours match neither way
    thread_after = (await omni.client.get(f"/v1/threads?customer_id={customer_id}")).json()
    assert thread_after["items"][0]["priority"] == "normal"
    no_channel = await omni.client.post("/v1/rules/test", json={"channel_id": "ch_x", "text": ""})
    assert no_channel.status_code == 422 and "ch_x" in no_channel.json()["detail"]
    no_customer = await omni.client.post("/v1/rules/test", json={**base, "customer_id": 987654})
    assert no_customer.status_code == 422


async def test_rules_created_at_once_get_distinct_default_positions(omni: OmniServer) -> None:
    import asyncio

    answers = await asyncio.gather(*[
        omni.client.post("/v1/rules", json=rule(f"r{i}", {"all": []}, HIGH)) for i in range(8)])
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    assert sorted(a.json()["position"] for a in answers) == list(range(8))
