"""One person on two API channels → one customer, one thread; replies go where they wrote last."""

from __future__ import annotations

from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.omni import OmniServer


async def _api_channel(omni: OmniServer, name: str, callback: CallbackServer) -> tuple[str, str]:
    created = await omni.create_channel("api", name, {"callback_url": callback.url,
                                                       "trusted": True})
    secret = created["generated_secrets"]["secret"]
    callback.secret = secret
    return created["id"], secret


async def test_two_channels_one_thread_reply_goes_to_latest(omni: OmniServer) -> None:
    first_cb, second_cb = CallbackServer(), CallbackServer()
    await first_cb.start()
    await second_cb.start()
    try:
        ch1, s1 = await _api_channel(omni, "bot one", first_cb)
        ch2, s2 = await _api_channel(omni, "bot two", second_cb)
        r1 = await post_inbound(omni.client, ch1, s1, inbound(
            "u-1", "m-1", "Hello from bot one", phone="+44 20 7946 0958", name="Ada",
            sent_at="2026-11-01T10:00:00Z"))
        assert r1.status_code == 202, r1.text
        r2 = await post_inbound(omni.client, ch2, s2, inbound(
            "other-id-9", "m-1", "And again from bot two", phone="+442079460958",
            sent_at="2026-11-01T10:05:00Z"))
        assert r2.status_code == 202, r2.text
        await omni.settle()

        customers = (await omni.client.get("/v1/customers", params={"q": "+442079460958"})).json()
        assert len(customers["items"]) == 1
        customer = customers["items"][0]
        assert customer["name"] == "Ada"
        kinds = sorted((i["kind"], i["verified"]) for i in customer["identities"])
        assert kinds == [("api", True), ("api", True), ("phone", True)]

        threads = (await omni.client.get("/v1/threads",
                                         params={"customer_id": customer["id"]})).json()
        assert len(threads["items"]) == 1
        thread = threads["items"][0]
        assert thread["last_inbound_channel_id"] == ch2
        messages = (await omni.client.get(f"/v1/threads/{thread['id']}/messages")).json()
        assert [m["text"] for m in messages["items"]] == ["Hello from bot one",
                                                          "And again from bot two"]

        reply = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                       json={"text": "Hi Ada, how can we help?"})
        assert reply.status_code == 201, reply.text
        assert reply.json()["status"] == "queued"
        assert reply.json()["channel_id"] == ch2
        await omni.settle()
        assert first_cb.received == []
        assert [p["text"] for p in second_cb.received] == ["Hi Ada, how can we help?"]
        assert second_cb.received[0]["external_user_id"] == "other-id-9"
        assert second_cb.bad_signatures == 0
        page = (await omni.client.get(f"/v1/threads/{thread['id']}/messages")).json()
        message = page["items"][-1]
        assert message["status"] == "delivered"
        assert message["external_id"] == f"bot-{message['id']}"
    finally:
        await first_cb.stop()
        await second_cb.stop()


async def test_same_message_five_times_is_one_message(omni: OmniServer,
                                                      callback: CallbackServer) -> None:
    ch, secret = await _api_channel(omni, "bot", callback)
    for _ in range(5):
        response = await post_inbound(omni.client, ch, secret, inbound("u-5", "dup-1", "once"))
        assert response.status_code == 202
    await omni.settle()
    threads = (await omni.client.get("/v1/threads")).json()["items"]
    assert len(threads) == 1
    messages = (await omni.client.get(f"/v1/threads/{threads[0]['id']}/messages")).json()
    assert [m["text"] for m in messages["items"]] == ["once"]
