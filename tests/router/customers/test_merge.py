"""Merge folds two customers into one thread; undo restores both exactly."""

from __future__ import annotations

from typing import Any

from tests.apichannel import inbound, post_inbound
from tests.omni import OmniServer


async def _snapshot(omni: OmniServer, customer_id: int) -> dict[str, Any]:
    customer = (await omni.client.get(f"/v1/customers/{customer_id}")).json()
    thread = (await omni.client.get(f"/v1/threads/{customer['thread_id']}")).json()
    messages = (await omni.client.get(f"/v1/threads/{thread['id']}/messages")).json()["items"]
    thread.pop("updated_at")  # bookkeeping of the row itself, not the thread's state
    return {"customer": customer, "thread": thread,
            "messages": [(m["id"], m["text"]) for m in messages]}


async def test_unverified_match_suggests_merge_then_undo_restores(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "untrusted bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    await post_inbound(omni.client, ch, secret, inbound(
        "alice", "a1", "first from alice", email="Alice@Example.com",
        sent_at="2026-11-01T09:00:00Z"))
    await post_inbound(omni.client, ch, secret, inbound(
        "alice-2", "b1", "first from second account", email="alice@example.com",
        sent_at="2026-11-01T09:30:00Z"))
    await omni.settle()
    customers = (await omni.client.get("/v1/customers")).json()["items"]
    assert len(customers) == 2
    newer, older = customers  # newest first
    suggestions = (await omni.client.get(f"/v1/customers/{older['id']}/suggestions")).json()
    assert [s["other_customer_id"] for s in suggestions] == [newer["id"]]
    assert "not verified" in suggestions[0]["reason"]

    # The thread gets some agent work before the merge.
    await omni.client.patch(f"/v1/threads/{older['thread_id']}",
                            json={"tags": ["billing"], "assignee": "sam", "status": "pending"})
    before_older = await _snapshot(omni, older["id"])
    before_newer = await _snapshot(omni, newer["id"])

    merged = await omni.client.post(f"/v1/customers/{older['id']}/merge",
                                    json={"other_customer_id": newer["id"], "reason": "same"})
    assert merged.status_code == 201, merged.text
    merge_id = merged.json()["id"]
    folded = await _snapshot(omni, older["id"])
    assert [t for _, t in folded["messages"]] == ["first from alice", "first from second account"]
    assert len(folded["customer"]["identities"]) == 3
    gone = await omni.client.get(f"/v1/threads/{newer['thread_id']}")
    assert gone.status_code == 404
    listed = (await omni.client.get("/v1/threads")).json()["items"]
    assert [t["id"] for t in listed] == [older["thread_id"]]

    # A message arriving on the merged identity after the merge lands in the merged thread...
    await post_inbound(omni.client, ch, secret, inbound("alice-2", "b2", "later message",
                                                        sent_at="2026-11-01T10:00:00Z"))
    await omni.settle()
    assert [t for _, t in (await _snapshot(omni, older["id"]))["messages"]][-1] == "later message"

    undone = await omni.client.post(f"/v1/merges/{merge_id}/undo")
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_at"] is not None
    after_older = await _snapshot(omni, older["id"])
    after_newer = await _snapshot(omni, newer["id"])
    assert after_older == before_older
    # ...and goes back with its identity on undo.
    assert after_newer["messages"][:1] == before_newer["messages"]
    assert [t for _, t in after_newer["messages"]] == ["first from second account",
                                                       "later message"]
    def keys(snapshot: dict[str, Any]) -> list[tuple[int, str, str, bool]]:
        return [(i["id"], i["kind"], i["value"], i["verified"])
                for i in snapshot["customer"]["identities"]]

    assert keys(after_newer) == keys(before_newer)
    assert after_newer["customer"]["name"] == before_newer["customer"]["name"]
    again = await omni.client.post(f"/v1/merges/{merge_id}/undo")
    assert again.status_code == 409


async def test_merge_refusals(omni: OmniServer) -> None:
    created = await omni.create_channel("api", "bot", {})
    ch, secret = created["id"], created["generated_secrets"]["secret"]
    await post_inbound(omni.client, ch, secret, inbound("x", "x1", "hi"))
    await omni.settle()
    customer = (await omni.client.get("/v1/customers")).json()["items"][0]
    self_merge = await omni.client.post(f"/v1/customers/{customer['id']}/merge",
                                        json={"other_customer_id": customer["id"]})
    assert self_merge.status_code == 422
    unknown = await omni.client.post(f"/v1/customers/{customer['id']}/merge",
                                     json={"other_customer_id": 999999})
    assert unknown.status_code == 404
    missing = await omni.client.post("/v1/merges/424242/undo")
    assert missing.status_code == 404
