"""Web chat through the real core: visitor ⇄ agent API, verified identity, offline copies."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from websockets.asyncio.client import connect

from connectors.webchat.connector import WebchatConnector
from connectors.webchat.tokens import identity_hash
from tests.apichannel import inbound, post_inbound
from tests.callback import CallbackServer
from tests.connectors.email.flow import email_channel, post_mail
from tests.connectors.email.smtp_server import SmtpServer
from tests.connectors.webchat.visitor import PAGE_ORIGIN, ScriptedVisitor
from tests.omni import ADMIN_KEY, OmniServer, messages, only_thread


async def webchat(omni: OmniServer, **config: Any) -> dict[str, Any]:
    return await omni.create_channel("webchat", "Site chat",
                                     {"allowed_origins": [PAGE_ORIGIN], **config})




async def test_visitor_and_agent_talk_live(omni: OmniServer) -> None:
    channel = await webchat(omni)
    assert "identity_secret" in channel["generated_secrets"]
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    await visitor.connect()
    await visitor.say("Hello, is anyone there?", {"name": "Ada"})
    await omni.settle()

    thread = await only_thread(omni)
    assert thread["last_inbound_channel_id"] == channel["id"]
    [first] = await messages(omni, thread["id"])
    assert (first["direction"], first["text"]) == ("inbound", "Hello, is anyone there?")
    customer = (await omni.client.get(f"/v1/customers/{thread['customer_id']}")).json()
    assert customer["name"] == "Ada"
    assert [(i["kind"], i["value"], i["verified"]) for i in customer["identities"]] == [
        ("webchat", visitor.visitor_id, False)]

    typing = await omni.client.post(f"/v1/threads/{thread['id']}/typing")
    assert typing.status_code == 204
    assert await visitor.next("typing") == {"type": "typing", "active": True}

    reply = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                   json={"text": "Yes! How can we help?"})
    assert reply.status_code == 201, reply.text
    pushed = await visitor.next("message")
    assert (pushed["message"]["id"], pushed["message"]["text"]) == (
        reply.json()["id"], "Yes! How can we help?")
    await omni.settle()
    sent = (await messages(omni, thread["id"]))[-1]
    assert (sent["status"], sent["external_id"]) == ("delivered", f"wc-{sent['id']}")

    await visitor.read([sent["id"]])
    await omni.settle()
    assert (await messages(omni, thread["id"]))[-1]["status"] == "read"

    history = await omni.client.get(f"/webchat/{channel['id']}/history",
                                    headers={"Authorization": f"Bearer {visitor.token}"})
    assert [(i["direction"], i["text"]) for i in history.json()["items"]] == [
        ("inbound", "Hello, is anyone there?"), ("outbound", "Yes! How can we help?")]
    await visitor.close()


async def test_a_visitors_file_reaches_the_agent(omni: OmniServer) -> None:
    png = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                        "0000000d4944415478da63f8cfc0f01f0005000201a5f3b1d80000000049454e44"
                        "ae426082")
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    ref = await visitor.upload(png, "image/png", "dot.png")
    await visitor.connect()
    await visitor.say("See the screenshot", attachments=[ref["file_id"]])
    await omni.settle()
    thread = await only_thread(omni)
    [message] = await messages(omni, thread["id"])
    assert [(a["kind"], a["mime_type"], a["filename"], a["size"])
            for a in message["attachments"]] == [("image", "image/png", "dot.png", len(png))]
    download = await omni.client.get(f"/v1/attachments/{message['id']}-0")
    assert download.status_code == 200, download.text
    assert download.content == png
    assert download.headers["content-type"] == "image/png"
    await visitor.close()


async def test_a_verified_site_user_links_to_the_verified_email(
        omni: OmniServer, callback: CallbackServer) -> None:
    api = await omni.create_channel("api", "bot", {"callback_url": callback.url,
                                                    "trusted": True})
    callback.secret = api["generated_secrets"]["secret"]
    posted = await post_inbound(omni.client, api["id"], callback.secret,
                                inbound("bot-user-7", "m-1", "Hi from the bot",
                                        email="Ada@Example.com"))
    assert posted.status_code == 202
    await omni.settle()

    channel = await webchat(omni, identity_secret="site-identity-secret-0123456789")
    user = {"user_id": "42", "email": "ada@example.com", "name": "Ada",
            "identity_hash": identity_hash("site-identity-secret-0123456789", "42")}
    visitor = await ScriptedVisitor.start(omni.url, channel["id"], user)
    assert visitor.visitor_id == f"u:{channel['id']}:42"
    await visitor.connect()
    await visitor.say("Logged in and asking")
    await omni.settle()

    thread = await only_thread(omni)
    assert [m["text"] for m in await messages(omni, thread["id"])] == [
        "Hi from the bot", "Logged in and asking"]
    customer = (await omni.client.get(f"/v1/customers/{thread['customer_id']}")).json()
    assert sorted((i["kind"], i["verified"]) for i in customer["identities"]) == [
        ("api", True), ("email", True), ("webchat", True)]
    await visitor.close()


async def test_a_prechat_email_only_suggests_a_merge(
        omni: OmniServer, callback: CallbackServer) -> None:
    api = await omni.create_channel("api", "bot", {"callback_url": callback.url,
                                                    "trusted": True})
    callback.secret = api["generated_secrets"]["secret"]
    await post_inbound(omni.client, api["id"], callback.secret,
                       inbound("bot-user-7", "m-1", "Hi", email="ada@example.com"))
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    await visitor.connect()
    await visitor.say("I am Ada, honest", {"email": "ada@example.com"})
    await omni.settle()

    threads = (await omni.client.get("/v1/threads")).json()["items"]
    assert len(threads) == 2
    mine = next(t for t in threads if t["last_inbound_channel_id"] == channel["id"])
    bots = next(t for t in threads if t["last_inbound_channel_id"] == api["id"])
    suggestions = (await omni.client.get(
        f"/v1/customers/{mine['customer_id']}/suggestions")).json()
    assert [(s["other_customer_id"], s["reason"]) for s in suggestions] == [
        (bots["customer_id"], "same email ada@example.com (not verified on both sides)")]
    customer = (await omni.client.get(f"/v1/customers/{mine['customer_id']}")).json()
    assert [(i["kind"], i["verified"]) for i in customer["identities"]] == [("webchat", False)]
    await visitor.close()


async def test_an_offline_visitor_gets_the_reply_through_the_configured_channel(
        omni: OmniServer, callback: CallbackServer) -> None:
    """The configured e-mail channel here is an API channel standing in for e-mail: the core's
    copy mechanism is the same for any channel the customer has an identity on."""
    api = await omni.create_channel("api", "mail stand-in", {"callback_url": callback.url,
                                                              "trusted": True})
    callback.secret = api["generated_secrets"]["secret"]
    await post_inbound(omni.client, api["id"], callback.secret,
                       inbound("ada-mail", "m-1", "Hi", email="ada@example.com"))
    await omni.settle()
    channel = await webchat(omni, email_channel_id=api["id"],
                            identity_secret="site-identity-secret-0123456789")
    user = {"user_id": "42", "email": "ada@example.com",
            "identity_hash": identity_hash("site-identity-secret-0123456789", "42")}
    visitor = await ScriptedVisitor.start(omni.url, channel["id"], user)
    await visitor.connect()
    await visitor.say("Please answer by mail if I am gone")
    await omni.settle()
    await visitor.close()
    live = omni.app.state.core.connector("webchat").runtime.live
    await omni.wait_for(lambda: _gone(live, channel["id"], visitor.visitor_id))

    thread = await only_thread(omni)
    reply = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                   json={"text": "Here is your answer"})
    assert reply.json()["channel_id"] == channel["id"]
    await omni.settle()
    assert [(p["text"], p["external_user_id"]) for p in callback.received] == [
        ("Here is your answer", "ada-mail")]
    outbound = [m for m in await messages(omni, thread["id"]) if m["direction"] == "outbound"]
    assert [(m["channel_id"], m["status"]) for m in outbound] == [
        (channel["id"], "sent"), (api["id"], "delivered")]


async def _gone(live: Any, channel_id: str, visitor_id: str) -> bool:
    return not live.connected(channel_id, visitor_id)


async def test_presence_follows_agents_on_the_event_stream(omni: OmniServer) -> None:
    channel = await webchat(omni)
    before = await ScriptedVisitor.start(omni.url, channel["id"])
    assert (await before.connect())["agents_online"] is False
    await before.close()
    agent = await connect(omni.url.replace("http://", "ws://")
                          + "/v1/events/ws",
                          additional_headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    try:
        async def subscribed() -> bool:
            return bool(omni.core.bus.subscriber_count)
        await omni.wait_for(subscribed)
        answer = (await omni.client.post(f"/webchat/{channel['id']}/session", json={},
                                         headers={"Origin": PAGE_ORIGIN})).json()
        assert answer["agents_online"] is True
    finally:
        await agent.close()


async def test_visitor_typing_reaches_agents_on_the_event_stream(omni: OmniServer) -> None:
    channel = await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, channel["id"])
    await visitor.connect()
    await visitor.say("Hello")
    await omni.settle()
    thread = await only_thread(omni)
    agent = await connect(omni.url.replace("http://", "ws://")
                          + "/v1/events/ws?types=customer.typing",
                          additional_headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    try:
        async def subscribed() -> bool:
            return bool(omni.core.bus.subscriber_count)
        await omni.wait_for(subscribed)
        assert visitor.ws is not None
        await visitor.ws.send(json.dumps({"type": "typing"}))
        event = json.loads(await asyncio.wait_for(agent.recv(), 10))
    finally:
        await agent.close()
        await visitor.close()
    assert event["type"] == "customer.typing"
    assert (event["data"]["thread_id"], event["data"]["channel_id"]) == (
        thread["id"], channel["id"])
    assert event["data"]["customer_id"] == thread["customer_id"]


async def test_the_real_core_refuses_foreign_origins_and_tokens(omni: OmniServer) -> None:
    first, second = await webchat(omni), await webchat(omni)
    visitor = await ScriptedVisitor.start(omni.url, first["id"])
    refused = await omni.client.post(f"/webchat/{first['id']}/session", json={},
                                     headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    reused = await omni.client.get(f"/webchat/{second['id']}/history",
                                   headers={"Authorization": f"Bearer {visitor.token}"})
    assert reused.status_code == 401


async def test_offline_reply_goes_by_mail_and_the_mailed_answer_joins_the_thread(
        omni: OmniServer) -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        mail = await email_channel(omni, smtp)
        chat = await webchat(omni, email_channel_id=mail["id"])
        visitor = await ScriptedVisitor.start(omni.url, chat["id"])
        await visitor.connect()
        await visitor.say("Answer me by mail, I have to go",
                          {"name": "Grace", "email": "grace@example.com"})
        await omni.settle()
        await visitor.close()
        connector = omni.core.connector("webchat")
        assert isinstance(connector, WebchatConnector)
        await omni.wait_for(lambda: _gone(connector.runtime.live, chat["id"],
                                          visitor.visitor_id))

        thread = await only_thread(omni)
        reply = await omni.client.post(f"/v1/threads/{thread['id']}/messages",
                                       json={"text": "The kettle ships tomorrow."})
        assert reply.json()["channel_id"] == chat["id"]
        await omni.settle()
        [mailed] = smtp.received
        assert mailed.rcpt_tos == ["grace@example.com"]
        assert "The kettle ships tomorrow." in mailed.message.get_body(
            ("plain",)).get_content()  # type: ignore[union-attr]

        answer = EmailMessage()
        answer["From"] = "Grace <grace@example.com>"
        answer["To"] = str(mailed.message["Reply-To"] or mailed.message["From"])
        answer["Subject"] = "Re: " + str(mailed.message["Subject"] or "")
        answer["Message-ID"] = "<answer-1@example.com>"
        answer["In-Reply-To"] = str(mailed.message["Message-ID"])
        answer["Date"] = format_datetime(datetime.now(UTC))
        answer.set_content("Thanks, tomorrow is fine.")
        posted = await post_mail(omni, mail, answer.as_bytes())
        assert posted.status_code == 200, posted.text
        await omni.settle()

        assert (await only_thread(omni))["id"] == thread["id"]
        # Compared unordered: the mail's Date has whole seconds, so it may sort before the copy.
        assert sorted((m["direction"], m["channel_id"], m["text"].strip(), m["status"])
                      for m in await messages(omni, thread["id"])) == sorted([
            ("inbound", chat["id"], "Answer me by mail, I have to go", "received"),
            ("outbound", chat["id"], "The kettle ships tomorrow.", "sent"),
            ("outbound", mail["id"], "The kettle ships tomorrow.", "sent"),
            ("inbound", mail["id"], "Thanks, tomorrow is fine.", "received"),
        ])
    finally:
        smtp.stop()
