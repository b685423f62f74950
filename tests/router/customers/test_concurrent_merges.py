"""Merges and undos racing each other: one wins, the other gets a clear 409."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.apichannel import inbound, post_inbound
from tests.omni import OmniServer

ROUNDS = 8


async def _pair(omni: OmniServer, ch: str, secret: str, n: int) -> tuple[int, int]:
    for user in ("a", "b"):
        answer = await post_inbound(omni.client, ch, secret,
                                    inbound(f"{user}{n}", f"{user}{n}-1", f"hello from {user}{n}"))
        assert answer.status_code == 202, answer.text
    await omni.settle()
    found = (await omni.client.get("/v1/customers")).json()["items"][:2]
    second, first = (c["id"] for c in found)
    return first, second


async def _merge(omni: OmniServer, target: int, source: int) -> Any:
    return await omni.client.post(f"/v1/customers/{target}/merge",
                                  json={"other_customer_id": source})


async def _visible_owner(omni: OmniServer, customer_id: int) -> dict[str, Any]:
    """Follow merges to the customer that holds the identities; its thread must be listed."""
    customer = (await omni.client.get(f"/v1/customers/{customer_id}")).json()
    seen = set()
    while customer["merged_into_id"] is not None:
        assert customer["id"] not in seen, "customers merged into each other"
        seen.add(customer["id"])
        customer = (await omni.client.get(f"/v1/customers/{customer['merged_into_id']}")).json()
    thread = await omni.client.get(f"/v1/threads/{customer['thread_id']}")
    assert thread.status_code == 200, "the surviving customer's thread is hidden"
    return customer


async def test_merging_two_customers_into_each_other_at_once(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    for n in range(ROUNDS):
        a, b = await _pair(omni, ch, secret, n)
        one, other = await asyncio.gather(_merge(omni, a, b), _merge(omni, b, a))
        assert sorted([one.status_code, other.status_code]) == [201, 409], (one.text, other.text)
        loser = other if other.status_code == 409 else one
        assert loser.headers["content-type"] == "application/problem+json"
        assert "already merged" in loser.json()["detail"]
        owner_a, owner_b = await _visible_owner(omni, a), await _visible_owner(omni, b)
        assert owner_a["id"] == owner_b["id"]
        merge = one if one.status_code == 201 else other

        # Two undos at once: one splits, the other is told it was already undone.
        undos = await asyncio.gather(*(omni.client.post(f"/v1/merges/{merge.json()['id']}/undo")
                                       for _ in range(2)))
        assert sorted(u.status_code for u in undos) == [200, 409], [u.text for u in undos]
        assert (await _visible_owner(omni, a))["id"] == a
        assert (await _visible_owner(omni, b))["id"] == b

    # A later message of every sender still lands in a listed thread.
    for n in range(ROUNDS):
        await post_inbound(omni.client, ch, secret, inbound(f"a{n}", f"a{n}-2", "later"))
    await omni.settle()
    threads = (await omni.client.get("/v1/threads?limit=200")).json()["items"]
    assert len(threads) == 2 * ROUNDS


async def test_a_merge_racing_a_chained_merge_leaves_one_visible_owner(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    for n in range(ROUNDS):
        a, b = await _pair(omni, ch, secret, n)
        c, _ = await _pair(omni, ch, secret, 100 + n)
        answers = await asyncio.gather(_merge(omni, a, b), _merge(omni, b, c), _merge(omni, c, a))
        assert all(r.status_code in (201, 409) for r in answers), [r.text for r in answers]
        assert any(r.status_code == 201 for r in answers)
        owners = {(await _visible_owner(omni, x))["id"] for x in (a, b, c)}
        assert len(owners) <= 2


async def test_an_automatic_link_racing_an_agents_merge(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "trusted bot", {"trusted": True})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    for n in range(ROUNDS):
        email = f"person{n}@example.com"
        await post_inbound(omni.client, ch, secret, inbound(f"x{n}", f"x{n}-1", "hi",
                                                            email=email))
        await post_inbound(omni.client, ch, secret, inbound(f"y{n}", f"y{n}-1", "hi",
                                                            phone=f"+4420794609{n:02d}"))
        await omni.settle()
        found = (await omni.client.get("/v1/customers")).json()["items"][:2]
        y, x = (c["id"] for c in found)
        # y's sender now proves x's e-mail (the worker links them) while an agent merges x
        # into y by hand.
        linked, merged = await asyncio.gather(
            post_inbound(omni.client, ch, secret, inbound(f"y{n}", f"y{n}-2", "me again",
                                                          email=email)),
            _merge(omni, y, x))
        assert linked.status_code == 202
        assert merged.status_code in (201, 409), merged.text
        await omni.settle()
        assert (await _visible_owner(omni, x))["id"] == (await _visible_owner(omni, y))["id"]
    failed = (await omni.client.get("/v1/inbound-events?state=failed")).json()["items"]
    assert failed == []
