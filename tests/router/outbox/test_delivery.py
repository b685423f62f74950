"""The outbox: retries with backoff, honours 429, keeps per-thread order, fails permanently."""

from __future__ import annotations

from typing import Any

from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.omni import OmniServer


async def _thread(omni: OmniServer, callback: CallbackServer) -> tuple[str, int]:
    created = await omni.create_channel("api", "bot", {"callback_url": callback.url})
    callback.secret = created["generated_secrets"]["secret"]
    await post_inbound(omni.client, created["id"], callback.secret, inbound("u", "m1", "help"))
    await omni.settle()
    thread = (await omni.client.get("/v1/threads")).json()["items"][0]
    return created["id"], thread["id"]


async def _messages(omni: OmniServer, thread_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (
        await omni.client.get(f"/v1/threads/{thread_id}/messages")).json()["items"]
    return items


async def test_transient_failures_are_retried_in_order(
    omni: OmniServer, callback: CallbackServer
) -> None:
    _, thread_id = await _thread(omni, callback)
    callback.script = [500, 429, 503]
    for text in ("one", "two", "three"):
        response = await omni.client.post(f"/v1/threads/{thread_id}/messages", json={"text": text})
        assert response.status_code == 201
    await omni.settle()
    assert [p["text"] for p in callback.received] == ["one", "two", "three"]
    outbound = [m for m in await _messages(omni, thread_id) if m["direction"] == "outbound"]
    assert [m["status"] for m in outbound] == ["delivered"] * 3


async def test_permanent_failure_marks_the_message_failed(
    omni: OmniServer, callback: CallbackServer
) -> None:
    _, thread_id = await _thread(omni, callback)
    callback.script = [400]
    await omni.client.post(f"/v1/threads/{thread_id}/messages", json={"text": "refused"})
    await omni.client.post(f"/v1/threads/{thread_id}/messages", json={"text": "next"})
    await omni.settle()
    outbound = [m for m in await _messages(omni, thread_id) if m["direction"] == "outbound"]
    assert [(m["text"], m["status"]) for m in outbound] == [("refused", "failed"),
                                                           ("next", "delivered")]
    assert "400" in outbound[0]["error"]


async def test_attempts_run_out_into_a_dead_letter(
    make_omni: Any, callback: CallbackServer
) -> None:
    omni = await make_omni(outbox_max_attempts=3)
    _, thread_id = await _thread(omni, callback)
    callback.script = [500, 500, 500]
    await omni.client.post(f"/v1/threads/{thread_id}/messages", json={"text": "doomed"})
    await omni.settle()
    outbound = [m for m in await _messages(omni, thread_id) if m["direction"] == "outbound"]
    assert outbound[0]["status"] == "failed"
    assert callback.script == []
    assert callback.received == []


async def test_internal_note_is_not_sent(omni: OmniServer, callback: CallbackServer) -> None:
    _, thread_id = await _thread(omni, callback)
    response = await omni.client.post(f"/v1/threads/{thread_id}/messages",
                                      json={"text": "customer is VIP", "internal": True})
    assert response.status_code == 201
    assert response.json()["direction"] == "note"
    await omni.settle()
    assert callback.received == []


async def test_reply_on_a_channel_the_customer_is_not_on_is_422(
    omni: OmniServer, callback: CallbackServer
) -> None:
    _, thread_id = await _thread(omni, callback)
    other = await omni.create_channel("api", "other bot", {})
    response = await omni.client.post(f"/v1/threads/{thread_id}/messages",
                                      json={"text": "hi", "channel_id": other["id"]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "no identity on channel" in response.json()["detail"]
