"""Verified ⇄ verified matches link customers by themselves (with an undoable merge record);
a verified detail never links to an unverified one."""

from __future__ import annotations

from tests.apichannel import inbound, post_inbound
from tests.omni import OmniServer


async def test_verified_phone_later_links_two_existing_customers(omni: OmniServer) -> None:
    trusted = await omni.create_channel("api", "trusted bot", {"trusted": True})
    ch, secret = trusted["id"], trusted["generated_secrets"]["secret"]
    await post_inbound(omni.client, ch, secret, inbound("wa-user", "w1", "from whatsapp-ish",
                                                        phone="+49 30 901820",
                                                        sent_at="2026-11-01T08:00:00Z"))
    await post_inbound(omni.client, ch, secret, inbound("tg-user", "t1", "from telegram-ish",
                                                        sent_at="2026-11-01T09:00:00Z"))
    await omni.settle()
    assert len((await omni.client.get("/v1/customers")).json()["items"]) == 2

    # The second account now shares its own, verified phone: the same person.
    await post_inbound(omni.client, ch, secret, inbound("tg-user", "t2", "here is my number",
                                                        phone="+4930901820",
                                                        sent_at="2026-11-01T09:05:00Z"))
    await omni.settle()
    customers = (await omni.client.get("/v1/customers")).json()["items"]
    assert len(customers) == 1
    merged = customers[0]
    thread = (await omni.client.get("/v1/threads", params={"customer_id": merged["id"]})).json()
    texts = [m["text"] for m in (await omni.client.get(
        f"/v1/threads/{thread['items'][0]['id']}/messages")).json()["items"]]
    assert texts == ["from whatsapp-ish", "from telegram-ish", "here is my number"]
    merges = (await omni.client.get(f"/v1/customers/{merged['id']}/merges")).json()
    assert len(merges) == 1 and merges[0]["automatic"] is True
    # The old customer id still finds the thread that holds its messages.
    old = merges[0]["source_customer_id"]
    found = (await omni.client.get("/v1/threads", params={"customer_id": old})).json()["items"]
    assert [t["id"] for t in found] == [thread["items"][0]["id"]]


async def test_unverified_detail_never_auto_links(omni: OmniServer) -> None:
    trusted = await omni.create_channel("api", "trusted", {"trusted": True})
    untrusted = await omni.create_channel("api", "untrusted", {})
    await post_inbound(omni.client, trusted["id"], trusted["generated_secrets"]["secret"],
                       inbound("a", "1", "verified", phone="+14155550123"))
    await post_inbound(omni.client, untrusted["id"], untrusted["generated_secrets"]["secret"],
                       inbound("b", "1", "claims the same phone", phone="+1 415 555 0123"))
    await omni.settle()
    customers = (await omni.client.get("/v1/customers")).json()["items"]
    assert len(customers) == 2
    suggestions = (await omni.client.get(f"/v1/customers/{customers[0]['id']}/suggestions")).json()
    assert [s["other_customer_id"] for s in suggestions] == [customers[1]["id"]]
