"""Telegram's webhook into a real omniroute: secret check, storage, threads, provider set-up."""

from __future__ import annotations

from connectors.telegram.schemas import SECRET_HEADER
from tests.apichannel import inbound, post_inbound
from tests.conftest import MakeOmni
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.connectors.telegram.fixtures import fixture, fixture_bytes
from tests.connectors.telegram.flow import (
    create_channel,
    messages,
    only_customer,
    only_thread,
    post_update,
    stored_events,
)
from tests.omni import OmniServer, same_answer


async def test_wrong_or_missing_secret_is_403_and_nothing_is_stored(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    for given in ("wrong-secret-000000000000000000", None, secret[:-1]):
        response = await post_update(omni, channel_id, given, fixture_bytes("message__text"))
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await stored_events(omni, channel_id) == 0


async def test_not_an_update_is_400(omni: OmniServer, bot_api: FakeBotApi) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    for body in (b"{not json", b'{"message": {}}', b'{"update_id": "7"}'):
        response = await post_update(omni, channel_id, secret, body)
        assert response.status_code == 400, response.text
    assert await stored_events(omni, channel_id) == 0


async def test_unknown_channel_is_404(omni: OmniServer) -> None:
    response = await post_update(omni, "ch_missing", "x", fixture_bytes("message__text"))
    assert response.status_code == 404


async def test_the_same_update_twice_is_one_message(omni: OmniServer, bot_api: FakeBotApi) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    for _ in range(2):
        response = await post_update(omni, channel_id, secret, fixture_bytes("message__text"))
        assert response.status_code == 200
        assert response.json() == {}
    await omni.settle()
    assert await stored_events(omni, channel_id) == 1
    thread = await only_thread(omni)
    [message] = await messages(omni, thread["id"])
    assert message["text"] == ("Hi! My order #48213 hasn't arrived. "
                               "Tracking: https://track.example.com/48213")
    assert message["external_id"] == "5120934412:1021"
    customer = await only_customer(omni)
    assert customer["name"] == "Amelia Kovač"
    assert [(i["kind"], i["value"], i["verified"]) for i in customer["identities"]] == [
        ("telegram", "5120934412", True)]


async def test_album_edit_and_media_land_in_one_thread(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    for name in ("message__text", "message__album_first", "message__album_second",
                 "message__voice", "edited_message__text", "message__group_chat"):
        assert (await post_update(omni, channel_id, secret, fixture(name))).status_code == 200
    await omni.settle()
    thread = await only_thread(omni)
    # In the order the customer sent them (the voice note is older than the album).
    text, voice, album = await messages(omni, thread["id"])
    assert text["text"] == ("Hi! My order #48214 hasn't arrived. "
                            "Tracking: https://track.example.com/48214")
    assert text["edited"] is True
    assert album["text"] == "Both sides of the box"
    assert [a["size"] for a in album["attachments"]] == [98144, 101376]
    assert album["meta"]["media_group_id"] == "13845526470418265"
    assert [a["kind"] for a in voice["attachments"]] == ["voice"]


async def test_an_attachment_streams_from_telegram(omni: OmniServer, bot_api: FakeBotApi) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    photo = fixture("message__photo")
    largest = photo["message"]["photo"][2]["file_id"]
    content = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
    bot_api.add_file(largest, "photos/file_12.jpg", content)
    await post_update(omni, channel_id, secret, photo)
    await omni.settle()
    [message] = await messages(omni, (await only_thread(omni))["id"])
    response = await omni.client.get(f"/v1/attachments/{message['attachments'][0]['id']}")
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "image/jpeg"
    assert [c.params["file_id"] for c in bot_api.calls_to("getFile")] == [largest]


async def test_block_and_unblock_flip_reachability(omni: OmniServer, bot_api: FakeBotApi) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    await post_update(omni, channel_id, secret, fixture("message__text"))
    await post_update(omni, channel_id, secret, fixture("my_chat_member__kicked"))
    await omni.settle()
    assert [i["reachable"] for i in (await only_customer(omni))["identities"]] == [False]
    await post_update(omni, channel_id, secret, fixture("my_chat_member__member"))
    await omni.settle()
    assert [i["reachable"] for i in (await only_customer(omni))["identities"]] == [True]


async def test_a_button_press_is_answered_in_the_webhook_response(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    response = await post_update(omni, channel_id, secret, fixture("callback_query__button"))
    assert response.json() == {"method": "answerCallbackQuery",
                               "callback_query_id": "2199501776433410151"}
    assert await stored_events(omni, channel_id) == 1


async def test_own_contact_links_telegram_to_the_same_phone_elsewhere(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    await post_update(omni, channel_id, secret, fixture("message__text"))
    await post_update(omni, channel_id, secret, fixture("message__contact_own"))
    await omni.settle()
    api = await omni.create_channel("api", "WhatsApp bridge", {"trusted": True})
    response = await post_inbound(omni.client, api["id"], api["generated_secrets"]["secret"],
                                  inbound("wa-77", "wamid-1", "Same person, other app",
                                          phone="+385 91 234 5678"))
    assert response.status_code == 202
    await omni.settle()
    customer = await only_customer(omni)
    assert sorted((i["kind"], i["value"], i["verified"]) for i in customer["identities"]) == [
        ("api", f"{api['id']}:wa-77", True), ("phone", "+385912345678", True),
        ("telegram", "5120934412", True)]
    thread = await only_thread(omni)
    assert [m["text"] for m in await messages(omni, thread["id"])][-1] == "Same person, other app"


async def test_a_contact_of_someone_else_links_nothing(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    await post_update(omni, channel_id, secret, fixture("message__contact_other"))
    await omni.settle()
    customer = await only_customer(omni)
    assert [i["kind"] for i in customer["identities"]] == ["telegram"]


async def test_webhook_is_set_on_create_and_removed_on_delete(
    make_omni: MakeOmni, bot_api: FakeBotApi
) -> None:
    omni = await make_omni(public_url="https://help.acme.example")
    channel_id, secret = await create_channel(omni, bot_api)
    [call] = bot_api.calls_to("setWebhook")
    assert call.params["url"] == f"https://help.acme.example/webhooks/telegram/{channel_id}"
    assert call.params["secret_token"] == secret
    assert (await omni.client.delete(f"/v1/channels/{channel_id}")).status_code == 204
    assert len(bot_api.calls_to("deleteWebhook")) == 1


async def test_config_is_checked_and_secrets_never_come_back(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    for bad in ({"bot_token": "not-a-token", "api_base_url": bot_api.url},
                {"bot_token": TOKEN, "mode": "push", "api_base_url": bot_api.url},
                {"bot_token": TOKEN, "webhook_secret": "has spaces in it!!"},
                {"bot_token": TOKEN, "api_base_url": "ftp://example.com"},
                {"bot_token": TOKEN, "chat": "extra keys are refused"}):
        response = await omni.client.post("/v1/channels", json={
            "type": "telegram", "name": "bad", "config": bad})
        assert response.status_code == 422, (bad, response.text)
    channel_id, _ = await create_channel(omni, bot_api)
    shown = (await omni.client.get(f"/v1/channels/{channel_id}")).json()
    assert "bot_token" not in shown["config"]
    assert "webhook_secret" not in shown["config"]
    assert shown["config"]["mode"] == "webhook"


async def test_the_hot_path_and_the_route_answer_alike(
    omni: OmniServer, bot_api: FakeBotApi
) -> None:
    channel_id, secret = await create_channel(omni, bot_api)
    url = f"/webhooks/telegram/{channel_id}"
    json_type = {"Content-Type": "application/json"}
    cases = [
        (fixture_bytes("message__text"), secret, 200),
        (fixture_bytes("callback_query__button"), secret, 200),
        (fixture_bytes("message__text"), "wrong-secret-000000000000000000", 403),
        (b"{not json", secret, 400),
    ]
    for body, given, status in cases:
        hot, routed = await omni.post_both_ways(url, body, {**json_type, SECRET_HEADER: given})
        assert same_answer(hot, routed).status_code == status
    missing = await omni.post_both_ways("/webhooks/telegram/ch_missing", cases[0][0],
                                        {**json_type, SECRET_HEADER: secret})
    assert same_answer(*missing).status_code == 404
    assert await stored_events(omni, channel_id) == 2
