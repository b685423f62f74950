"""The 24-hour customer service window: 409 outside it, templates any time, fallback."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from router.models import Identity
from router.models.base import utcnow
from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.connectors.whatsapp.fake_graph import FakeGraph, graph_error
from tests.connectors.whatsapp.fixtures import fixture, just_sent
from tests.connectors.whatsapp.flow import (
    create_channel,
    messages,
    only_thread,
    post_body,
    post_fixture,
)
from tests.omni import OmniServer

ORDER_UPDATE = {"name": "order_update", "language": "en_US", "components": [
    {"type": "body", "parameters": [{"type": "text", "text": "#1042"}]}]}


async def close_window(omni: OmniServer) -> None:
    async with omni.core.unit() as session:
        await session.execute(update(Identity).where(Identity.kind == "whatsapp")
                              .values(last_inbound_at=utcnow() - timedelta(hours=25)))


async def customer_wrote_a_day_ago(omni: OmniServer, config: dict[str, Any]) -> tuple[str, int]:
    channel_id = (await create_channel(omni, config))["id"]
    await post_fixture(omni, channel_id, "text__basic")
    await omni.settle()
    await close_window(omni)
    return channel_id, (await only_thread(omni))["id"]


async def test_free_form_reply_outside_the_window_is_a_409_suggesting_a_template(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote_a_day_ago(omni, wa_config)
    thread = (await omni.client.get(f"/v1/threads/{thread_id}")).json()
    assert [(w["channel_id"], w["open"]) for w in thread["reply_windows"]] == [
        (channel_id, False)]
    refused = await omni.client.post(f"/v1/threads/{thread_id}/messages",
                                     json={"text": "Are you still there?",
                                           "channel_id": channel_id})
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"].endswith("/reply-window-closed")
    assert "template" in problem["detail"]
    await omni.settle()
    assert graph.sent == []


async def test_template_goes_out_outside_the_window(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id, thread_id = await customer_wrote_a_day_ago(omni, wa_config)
    sent = await omni.client.post(f"/v1/threads/{thread_id}/messages", json={
        "text": "Order #1042 is on its way", "channel_id": channel_id, "template": ORDER_UPDATE})
    assert sent.status_code == 201, sent.text
    await omni.settle()
    assert graph.sent == [{"messaging_product": "whatsapp", "recipient_type": "individual",
                           "to": "16505551234", "type": "template",
                           "template": {"name": "order_update", "language": {"code": "en_US"},
                                        "components": ORDER_UPDATE["components"]}}]
    stored = [m for m in await messages(omni, thread_id) if m["id"] == sent.json()["id"]]
    assert [(m["status"], m["external_id"]) for m in stored] == [("sent", "wamid.FAKE0001")]


async def test_automatic_reply_falls_back_to_the_customers_next_channel(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph, callback: CallbackServer
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    api = await omni.create_channel("api", "shop bot", {"callback_url": callback.url,
                                                         "trusted": True})
    callback.secret = api["generated_secrets"]["secret"]
    await post_inbound(omni.client, api["id"], callback.secret,
                       inbound("shop-77", "m-1", "Order question", phone="+16505551234",
                               sent_at="2025-06-08T20:00:00Z"))
    await omni.settle()
    await post_fixture(omni, channel_id, "text__basic")  # written at 20:59:43, the latest
    await omni.settle()
    await close_window(omni)
    thread = await only_thread(omni)
    assert thread["last_inbound_channel_id"] == channel_id
    sent = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                  json={"text": "We can help with that."})
    assert sent.status_code == 201, sent.text
    assert sent.json()["channel_id"] == api["id"]
    await omni.settle()
    assert graph.sent == []
    assert [p["text"] for p in callback.received] == ["We can help with that."]
    notes = [m["text"] for m in await messages(omni, thread["id"]) if m["direction"] == "note"]
    assert notes == ["The reply window on WhatsApp support (whatsapp) is closed; this reply "
                     "goes out via shop bot (api)."]


async def test_templates_are_listed_from_the_business_account(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    listed = await omni.client.get(f"/v1/channels/{channel_id}/templates")
    assert listed.status_code == 200, listed.text
    assert [(t["name"], t["language"], t["category"]) for t in listed.json()["items"]] == [
        ("order_update", "en_US", "UTILITY"), ("we_miss_you", "en_US", "MARKETING"),
        ("appointment_reminder", "de", "UTILITY")]


async def test_template_list_without_business_account_is_a_409(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    config = {k: v for k, v in wa_config.items() if k != "business_account_id"}
    channel_id = (await create_channel(omni, config))["id"]
    listed = await omni.client.get(f"/v1/channels/{channel_id}/templates")
    assert listed.status_code == 409
    assert "business_account_id" in listed.json()["detail"]


async def test_template_list_failure_is_a_502_problem(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    graph.fail_next(500, graph_error(2, "Service temporarily unavailable"))
    listed = await omni.client.get(f"/v1/channels/{channel_id}/templates")
    assert listed.status_code == 502
    assert listed.headers["content-type"].startswith("application/problem+json")
    assert listed.json()["retryable"] is True
    assert (await omni.client.get(f"/v1/channels/{channel_id}")).json()["health"] == "ok"


async def test_template_list_with_a_revoked_token_marks_the_channel_unhealthy(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    graph.fail_next(401, graph_error(190, "Error validating access token: Session has expired"))
    listed = await omni.client.get(f"/v1/channels/{channel_id}/templates")
    assert listed.status_code == 502
    assert listed.json()["retryable"] is False
    channel = (await omni.client.get(f"/v1/channels/{channel_id}")).json()
    assert channel["health"] == "unhealthy"
    assert "access token" in channel["health_reason"]


async def test_customer_and_thread_list_show_the_window_open_then_closed(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    await post_fixture(omni, channel_id, "text__basic", fresh=True)
    await omni.settle()
    thread = await only_thread(omni)
    customer = (await omni.client.get(f"/v1/customers/{thread['customer_id']}")).json()
    [window] = customer["reply_windows"]
    phone = next(i for i in customer["identities"] if i["id"] == window["identity_id"])
    assert (window["channel_id"], window["open"], phone["kind"]) == (channel_id, True, "whatsapp")
    opened_at = datetime.fromisoformat(phone["last_inbound_at"])
    assert datetime.fromisoformat(window["closes_at"]) == opened_at + timedelta(hours=24)
    listed = (await omni.client.get("/v1/threads")).json()["items"]
    assert [w["open"] for w in listed[0]["reply_windows"]] == [True]
    await close_window(omni)
    searched = (await omni.client.get("/v1/customers", params={"q": phone["value"]})).json()
    assert [w["open"] for w in searched["items"][0]["reply_windows"]] == [False]
    listed = (await omni.client.get("/v1/threads")).json()["items"]
    assert [w["open"] for w in listed[0]["reply_windows"]] == [False]


async def test_the_window_counts_from_when_the_customer_wrote_not_from_our_receipt(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    """Meta retries a webhook for days: one delivered 25 hours after the customer wrote opens
    no window (Meta would refuse the reply), one 23 hours late leaves an hour of it."""
    channel_id = (await create_channel(omni, wa_config))["id"]
    late = just_sent(fixture("text__basic"), ago_seconds=25 * 3600)
    assert (await post_body(omni, channel_id, late)).status_code == 200
    await omni.settle()
    thread = await only_thread(omni)
    detail = (await omni.client.get(f"/v1/threads/{thread['id']}")).json()
    assert [w["open"] for w in detail["reply_windows"]] == [False]
    refused = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                     json={"text": "Sorry for the wait!",
                                           "channel_id": channel_id})
    assert refused.status_code == 409

    written = int(time.time()) - 23 * 3600
    newer = just_sent(fixture("text__reply_context"), ago_seconds=23 * 3600)
    assert (await post_body(omni, channel_id, newer)).status_code == 200
    await omni.settle()
    detail = (await omni.client.get(f"/v1/threads/{thread['id']}")).json()
    [window] = detail["reply_windows"]
    closes = datetime.fromisoformat(window["closes_at"])
    assert window["open"] is True
    assert abs(closes.timestamp() - (written + 24 * 3600)) <= 2
    # The older message arriving later still does not move the window back.
    assert (await post_body(omni, channel_id, late)).status_code == 200
    await omni.settle()
    again = (await omni.client.get(f"/v1/threads/{thread['id']}")).json()["reply_windows"]
    assert again[0]["closes_at"] == window["closes_at"]


async def test_a_timestamp_in_the_future_counts_as_received_now(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    ahead = just_sent(fixture("text__basic"), ago_seconds=-6 * 3600)  # a clock 6 hours fast
    before = utcnow()
    assert (await post_body(omni, channel_id, ahead)).status_code == 200
    await omni.settle()
    thread = await only_thread(omni)
    [message] = await messages(omni, thread["id"])
    assert datetime.fromisoformat(message["sent_at"]) <= utcnow()
    assert datetime.fromisoformat(message["sent_at"]) >= before - timedelta(seconds=1)
    [window] = (await omni.client.get(f"/v1/threads/{thread['id']}")).json()["reply_windows"]
    assert datetime.fromisoformat(window["closes_at"]) <= utcnow() + timedelta(hours=24)

