"""Customers' CRM facts: PATCH /v1/customers/{id} and what a trusted API channel sends."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.customer_facts import clean_text
from tests.apichannel import inbound, post_inbound
from tests.omni import OmniServer
from tests.router.rules.helpers import client_with_role


async def _customer_of(omni: OmniServer, channel_id: str, secret: str, user: str,
                       **extra: Any) -> dict[str, Any]:
    sent = await post_inbound(omni.client, channel_id, secret,
                              inbound(user, f"{user}-{len(extra)}-{sorted(extra)}", "hi", **extra))
    assert sent.status_code == 202, sent.text
    await omni.settle()
    for customer in (await omni.client.get("/v1/customers")).json()["items"]:
        if any(i["value"].endswith(f":{user}") for i in customer["identities"]):
            found: dict[str, Any] = customer
            return found
    raise AssertionError(f"no customer for {user}")


async def test_patch_sets_facts_merges_attributes_and_rules_see_them(omni: OmniServer) -> None:
    channel = await omni.create_channel("api", "bot", {})
    customer = await _customer_of(omni, channel["id"], channel["generated_secrets"]["secret"],
                                  "u1")
    assert (customer["tier"], customer["language"], customer["tags"],
            customer["attributes"]) == (None, None, [], {})
    url = f"/v1/customers/{customer['id']}"
    patched = await omni.client.patch(url, json={
        "tier": " Paid ", "language": "EN-gb", "tags": ["vip", " vip", "b2b"],
        "attributes": {"plan": "Gold", "seats": 12, "trial": False}})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["tier"], body["language"], body["tags"]) == ("Paid", "en-GB", ["b2b", "vip"])
    assert body["attributes"] == {"plan": "Gold", "seats": 12, "trial": False}
    again = (await omni.client.patch(url, json={"attributes": {"seats": 20, "trial": None},
                                                "language": None})).json()
    assert again["attributes"] == {"plan": "Gold", "seats": 20}
    assert again["language"] is None and again["tier"] == "Paid"
    assert (await omni.client.get(url)).json()["attributes"] == {"plan": "Gold", "seats": 20}

    await omni.client.post("/v1/rules", json={
        "name": "big paid", "when": {"all": [
            {"field": "customer.tier", "op": "eq", "value": "paid"},
            {"field": "customer.attributes.seats", "op": "gt", "value": 15}]},
        "then": [{"action": "set_priority", "value": "urgent"}]})
    dry = await omni.client.post("/v1/rules/test", json={
        "channel_id": channel["id"], "text": "", "customer_id": customer["id"]})
    assert dry.json()["actions"] == [{"action": "set_priority", "value": "urgent"}]


@pytest.mark.parametrize(("body", "field"), [
    ({"tags": ["x" * 65]}, "tags"),
    ({"tags": "vip"}, "tags"),
    ({"language": "english please"}, "language"),
    ({"tier": ""}, "tier"),
    ({"attributes": {"nested": {"a": 1}}}, "attributes"),
    ({"attributes": {"list": [1, 2]}}, "attributes"),
    ({"attributes": {"bad key": 1}}, "attributes"),
    ({"attributes": {f"k{i}": i for i in range(51)}}, "attributes"),
    ({"attributes": {"long": "x" * 501}}, "attributes"),
    ({"shoe_size": 9}, "shoe_size"),
])
async def test_patch_refuses_bad_facts_naming_the_field(omni: OmniServer, body: dict[str, Any],
                                                        field: str) -> None:
    channel = await omni.create_channel("api", "bot", {})
    customer = await _customer_of(omni, channel["id"], channel["generated_secrets"]["secret"],
                                  "u2")
    response = await omni.client.patch(f"/v1/customers/{customer['id']}", json=body)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}
    assert (await omni.client.get(f"/v1/customers/{customer['id']}")).json() == customer


async def test_the_merged_size_is_bounded_too(omni: OmniServer) -> None:
    channel = await omni.create_channel("api", "bot", {})
    customer = await _customer_of(omni, channel["id"], channel["generated_secrets"]["secret"],
                                  "u3")
    url = f"/v1/customers/{customer['id']}"
    first = {f"a{i}": "x" * 400 for i in range(15)}
    assert (await omni.client.patch(url, json={"attributes": first})).status_code == 200
    second = {f"b{i}": "y" * 400 for i in range(15)}
    response = await omni.client.patch(url, json={"attributes": second})
    assert response.status_code == 422 and "bytes" in response.json()["detail"]
    assert (await omni.client.get(url)).json()["attributes"] == first


async def test_agents_patch_tags_and_language_supervisors_tier_and_attributes(
    omni: OmniServer,
) -> None:
    channel = await omni.create_channel("api", "bot", {})
    customer = await _customer_of(omni, channel["id"], channel["generated_secrets"]["secret"],
                                  "u4")
    url = f"/v1/customers/{customer['id']}"
    agent = await client_with_role(omni, "agent")
    supervisor = await client_with_role(omni, "supervisor")
    try:
        assert (await agent.patch(url, json={"tags": ["vip"], "language": "ru"})).status_code \
            == 200
        refused = await agent.patch(url, json={"tier": "paid", "tags": []})
        assert refused.status_code == 403 and "tier" in refused.json()["detail"]
        assert (await agent.patch(url, json={"attributes": {"a": 1}})).status_code == 403
        assert (await supervisor.patch(url, json={"tier": "paid", "attributes": {"a": 1}})
                ).status_code == 200
    finally:
        await agent.aclose()
        await supervisor.aclose()
    final = (await omni.client.get(url)).json()
    assert (final["tags"], final["language"], final["tier"], final["attributes"]) == \
        (["vip"], "ru", "paid", {"a": 1})
    assert (await omni.client.patch("/v1/customers/987654", json={"tags": []})).status_code == 404


async def test_a_trusted_channel_sets_tier_and_attributes_an_untrusted_one_cannot(
    omni: OmniServer,
) -> None:
    trusted = await omni.create_channel("api", "crm", {"trusted": True})
    plain = await omni.create_channel("api", "public bot", {})
    crm_secret = trusted["generated_secrets"]["secret"]
    customer = await _customer_of(omni, trusted["id"], crm_secret, "c1", tier="Gold",
                                  attributes={"plan": "pro", "seats": 3})
    assert customer["tier"] == "Gold"
    assert customer["attributes"] == {"plan": "pro", "seats": 3}
    later = await _customer_of(omni, trusted["id"], crm_secret, "c1",
                               attributes={"seats": 4, "plan": None})
    assert later["tier"] == "Gold" and later["attributes"] == {"seats": 4}

    claimed = await _customer_of(omni, plain["id"], plain["generated_secrets"]["secret"], "p1",
                                 tier="Gold", attributes={"vip": True})
    assert claimed["tier"] is None and claimed["attributes"] == {}


@pytest.mark.parametrize("extra", [
    {"attributes": {"nested": {"a": 1}}},
    {"attributes": {"x": "y" * 501}},
    {"tier": "  "},
])
async def test_bad_facts_from_a_channel_are_a_422_for_the_bot(omni: OmniServer,
                                                             extra: dict[str, Any]) -> None:
    trusted = await omni.create_channel("api", "crm", {"trusted": True})
    sent = await post_inbound(omni.client, trusted["id"], trusted["generated_secrets"]["secret"],
                              inbound("c2", "m1", "hi", **extra))
    assert sent.status_code == 422, sent.text


async def test_channel_text_is_cleaned_at_the_boundary(omni: OmniServer) -> None:
    trusted = await omni.create_channel("api", "crm", {"trusted": True})
    customer = await _customer_of(omni, trusted["id"], trusted["generated_secrets"]["secret"],
                                  "c3", tier="Gold\u0000\u0007",
                                  attributes={"company": "ACME\nLtd\u009b"})
    assert customer["tier"] == "Gold"
    assert customer["attributes"] == {"company": "ACME Ltd"}


def test_clean_text_replaces_lone_surrogates_and_controls() -> None:
    # Our JSON parser already refuses a lone surrogate escape; Python callers can still pass one.
    assert clean_text(" a\ud800b\x00c\n ") == "a\ufffdb c"
