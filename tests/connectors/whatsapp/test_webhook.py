"""Meta's webhook against a real omniroute: handshake, signatures, dedupe, identities."""

from __future__ import annotations

import json
from typing import Any

from tests.apichannel import inbound, post_inbound
from tests.connectors.whatsapp.fake_graph import FakeGraph
from tests.connectors.whatsapp.fixtures import fixture, signed
from tests.connectors.whatsapp.flow import (
    create_channel,
    messages,
    only_thread,
    post_body,
    post_fixture,
    stored_events,
)
from tests.omni import OmniServer, same_answer


async def test_secrets_are_write_only_and_the_verify_token_is_generated(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    created = await create_channel(omni, wa_config)
    assert set(created["generated_secrets"]) == {"verify_token"}
    assert len(created["generated_secrets"]["verify_token"]) >= 32
    assert created["webhook_url"].endswith(f"/webhooks/whatsapp/{created['id']}")
    shown = (await omni.client.get(f"/v1/channels/{created['id']}")).json()
    assert not {"access_token", "app_secret", "verify_token"} & set(shown["config"])
    assert sorted(shown["secrets_set"]) == ["access_token", "app_secret", "verify_token"]


async def test_verification_handshake(omni: OmniServer, wa_config: dict[str, Any]) -> None:
    created = await create_channel(omni, wa_config)
    url = f"/webhooks/whatsapp/{created['id']}"
    token = created["generated_secrets"]["verify_token"]
    right = await omni.client.get(url, params={"hub.mode": "subscribe", "hub.verify_token": token,
                                               "hub.challenge": "1158201444"})
    assert (right.status_code, right.text) == (200, "1158201444")
    assert right.headers["content-type"].startswith("text/plain")
    wrong = await omni.client.get(url, params={"hub.mode": "subscribe",
                                               "hub.verify_token": "guess",
                                               "hub.challenge": "1158201444"})
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    assert "1158201444" not in wrong.text
    bad_mode = await omni.client.get(url, params={"hub.mode": "unsubscribe",
                                                  "hub.verify_token": token,
                                                  "hub.challenge": "1158201444"})
    assert bad_mode.status_code == 403
    missing = await omni.client.get("/webhooks/whatsapp/ch_nonexistent",
                                    params={"hub.mode": "subscribe", "hub.verify_token": token,
                                            "hub.challenge": "1"})
    assert missing.status_code == 404


async def test_forged_signature_is_refused_before_anything_is_stored(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    body = fixture("text__basic")
    url = f"/webhooks/whatsapp/{channel_id}"
    forged = await omni.client.post(url, content=body, headers=signed(body, "not-the-secret"))
    assert forged.status_code == 401
    assert forged.json()["detail"] == ("X-Hub-Signature-256 does not match the body signed with "
                                       "the app secret")
    tampered = await omni.client.post(url, content=body.replace(b"color", b"colour"),
                                      headers=signed(body))
    assert tampered.status_code == 401
    unsigned = await omni.client.post(url, content=body,
                                      headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert await stored_events(omni, channel_id) == 0
    await omni.settle()
    assert (await omni.client.get("/v1/threads")).json()["items"] == []


async def test_signed_body_that_is_not_a_notification_is_a_400(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    response = await post_body(omni, channel_id, b'{"object": "page", "entry": []}')
    assert response.status_code == 400
    assert await stored_events(omni, channel_id) == 0


async def test_text_makes_a_verified_customer_with_a_phone(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    response = await post_fixture(omni, channel_id, "text__basic", fresh=True)
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    await omni.settle()
    thread = await only_thread(omni)
    customer = (await omni.client.get(f"/v1/customers/{thread['customer_id']}")).json()
    assert customer["name"] == "Sheena Nelson"
    assert sorted((i["kind"], i["value"], i["verified"]) for i in customer["identities"]) == [
        ("phone", "+16505551234", True), ("whatsapp", "16505551234", True)]
    [message] = await messages(omni, thread["id"])
    assert (message["direction"], message["text"], message["external_id"]) == (
        "inbound", "Does it come in another color?",
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")
    detail = (await omni.client.get(f"/v1/threads/{thread['id']}")).json()
    [window] = detail["reply_windows"]
    assert (window["channel_id"], window["open"]) == (channel_id, True)


async def test_the_same_payload_twice_is_one_message(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    for _ in range(2):
        assert (await post_fixture(omni, channel_id, "text__basic")).status_code == 200
    # Meta re-sends a message inside a different notification too: dedupe by wamid.
    batch_again = fixture("text__basic").replace(b'"entry"', b'"retried": true, "entry"')
    assert (await post_body(omni, channel_id, batch_again)).status_code == 200
    await omni.settle()
    assert await stored_events(omni, channel_id) == 2
    thread = await only_thread(omni)
    assert [m["text"] for m in await messages(omni, thread["id"])] == [
        "Does it come in another color?"]


async def test_a_batch_reaches_two_customers(omni: OmniServer, wa_config: dict[str, Any]) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    assert (await post_fixture(omni, channel_id, "batch__multi_entry")).status_code == 200
    await omni.settle()
    threads = (await omni.client.get("/v1/threads")).json()["items"]
    texts = sorted([m["text"] for t in threads for m in await messages(omni, t["id"])])
    assert texts == ["Hello, do you deliver to Accra?", "Is my order on its way?"]
    kofi = (await omni.client.get("/v1/customers", params={"q": "+233241234567"})).json()
    assert [c["name"] for c in kofi["items"]] == ["Kofi Mensah"]


async def test_one_bad_message_in_a_batch_is_reported_and_the_others_land(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    notification = json.loads(fixture("batch__multi_entry"))
    # A type this connector does not know yet, between two it does.
    notification["entry"][0]["changes"][0]["value"]["messages"].insert(1, {
        "from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzT1JERVIwMDAwMDAwMQA=",
        "timestamp": "1749418000", "type": "order",
        "order": {"catalog_id": "1473918283142", "product_items": [
            {"product_retailer_id": "kettle-red", "quantity": 1, "item_price": 49,
             "currency": "EUR"}]}})
    assert (await post_body(omni, channel_id, json.dumps(notification).encode())
            ).status_code == 200
    await omni.settle()
    threads = (await omni.client.get("/v1/threads")).json()["items"]
    texts = sorted([m["text"] for t in threads for m in await messages(omni, t["id"])])
    assert texts == ["Hello, do you deliver to Accra?", "Is my order on its way?"]
    (event,) = (await omni.client.get("/v1/inbound-events")).json()["items"]
    assert event["state"] == "partial"
    assert event["error"] == ("WhatsApp message wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzT1JERVIwMDAw"
                              "MDAwMQA=: WhatsApp message type 'order' is not supported "
                              "(message wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzT1JERVIwMDAwMDAwMQA=)")


async def test_same_phone_on_a_trusted_api_channel_links_to_one_customer(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    api = await omni.create_channel("api", "shop bot", {"trusted": True})
    await post_fixture(omni, channel_id, "text__basic")
    await omni.settle()
    sent = await post_inbound(omni.client, api["id"], api["generated_secrets"]["secret"],
                              inbound("shop-77", "m-1", "It's me again, from the shop app",
                                      phone="+1 650-555-1234"))
    assert sent.status_code == 202
    await omni.settle()
    customers = (await omni.client.get("/v1/customers")).json()["items"]
    assert len(customers) == 1
    assert sorted(i["kind"] for i in customers[0]["identities"]) == ["api", "phone", "whatsapp"]
    thread = await only_thread(omni)
    assert [m["text"] for m in await messages(omni, thread["id"])] == [
        "Does it come in another color?", "It's me again, from the shop app"]


async def test_inbound_media_streams_to_an_agent(
    omni: OmniServer, wa_config: dict[str, Any], graph: FakeGraph
) -> None:
    from tests.connectors.whatsapp.fake_graph import MEDIA_BYTES

    channel_id = (await create_channel(omni, wa_config))["id"]
    await post_fixture(omni, channel_id, "image__caption")
    await omni.settle()
    thread = await only_thread(omni)
    [message] = await messages(omni, thread["id"])
    [attachment] = message["attachments"]
    assert (attachment["kind"], attachment["provider_ref"]) == ("image", "1003383421387256")
    download = await omni.client.get(f"/v1/attachments/{attachment['id']}")
    assert download.status_code == 200
    assert download.content == MEDIA_BYTES
    assert download.headers["content-type"] == "image/jpeg"
    anonymous = await omni.client.get(f"/v1/attachments/{attachment['id']}",
                                      headers={"Authorization": "Bearer nope"})
    assert anonymous.status_code == 401


async def test_a_refused_token_at_set_up_shows_in_the_channel_health(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    created = await create_channel(omni, {**wa_config, "access_token": "EAAmistyped"})
    shown = (await omni.client.get(f"/v1/channels/{created['id']}")).json()
    assert shown["health"] == "unhealthy"
    assert "(190) the access token was refused" in shown["health_reason"]
    fixed = await omni.client.patch(f"/v1/channels/{created['id']}",
                                    json={"config": {"access_token": wa_config["access_token"]}})
    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["health"], fixed.json()["health_reason"]) == ("ok", None)


async def test_the_hot_path_and_the_route_answer_alike(
    omni: OmniServer, wa_config: dict[str, Any]
) -> None:
    channel_id = (await create_channel(omni, wa_config))["id"]
    url = f"/webhooks/whatsapp/{channel_id}"
    body, other = fixture("text__basic"), b'{"object": "page", "entry": []}'
    for content, headers, status in [(body, signed(body), 200),
                                     (body, signed(body, "not-the-secret"), 401),
                                     (other, signed(other), 400)]:
        hot, routed = await omni.post_both_ways(url, content, headers)
        assert same_answer(hot, routed).status_code == status
    assert await stored_events(omni, channel_id) == 1
