"""Agents' replies through the outbox to the fake Bot API, with Telegram's failure modes."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.fixtures import fixture
from tests.connectors.telegram.flow import (
    create_channel,
    messages,
    only_customer,
    only_thread,
    post_update,
)
from tests.omni import OmniServer

CHAT = "5120934412"


@pytest.fixture
async def thread(omni: OmniServer, bot_api: FakeBotApi) -> dict[str, Any]:
    """A customer who wrote once over Telegram, and the channel's secret under 'secret'."""
    channel_id, secret = await create_channel(omni, bot_api)
    await post_update(omni, channel_id, secret, fixture("message__text"))
    await omni.settle()
    return {**(await only_thread(omni)), "secret": secret, "channel": channel_id}


async def reply(omni: OmniServer, thread: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await omni.client.post(f"/v1/threads/{thread['id']}/messages", json=body)
    assert response.status_code == 201, response.text
    await omni.settle()
    latest: dict[str, Any] = (await messages(omni, thread["id"]))[-1]
    return latest


async def test_a_reply_goes_out_and_the_customer_can_quote_it(
    omni: OmniServer, bot_api: FakeBotApi, thread: dict[str, Any]
) -> None:
    sent = await reply(omni, thread, text="Could you send a photo of the label?")
    assert [(c.method, c.params) for c in bot_api.sent()] == [
        ("sendMessage", {"chat_id": CHAT, "text": "Could you send a photo of the label?"})]
    assert (sent["status"], sent["external_id"]) == ("sent", f"{CHAT}:2001")

    answer = fixture("message__reply")
    answer["message"]["reply_to_message"]["message_id"] = 2001
    answer["message"]["date"] = int(time.time()) + 1
    await post_update(omni, thread["channel"], thread["secret"], answer)
    await omni.settle()
    quoted = (await messages(omni, thread["id"]))[-1]
    assert (quoted["text"], quoted["reply_to_message_id"]) == ("Sure, one moment", sent["id"])


async def test_an_agent_quotes_the_customer(
    omni: OmniServer, bot_api: FakeBotApi, thread: dict[str, Any]
) -> None:
    customer_message = (await messages(omni, thread["id"]))[0]
    await reply(omni, thread, text="About this one:", reply_to_message_id=customer_message["id"])
    assert bot_api.sent()[0].params["reply_parameters"] == {
        "message_id": 1021, "allow_sending_without_reply": True}


async def test_a_long_reply_arrives_in_parts(
    omni: OmniServer, bot_api: FakeBotApi, thread: dict[str, Any]
) -> None:
    first, second = "We traced the parcel. " * 150, "What happens next. " * 100
    sent = await reply(omni, thread, text=f"{first}\n\n{second}")
    assert [c.params["text"] for c in bot_api.sent()] == [first.strip(), second.strip()]
    assert (sent["status"], sent["external_id"]) == ("sent", f"{CHAT}:2001")


async def test_share_phone_button_and_csat_buttons(
    omni: OmniServer, bot_api: FakeBotApi, thread: dict[str, Any]
) -> None:
    await reply(omni, thread, text="May we have your number?", request_contact=True)
    await reply(omni, thread, text="How did we do?",
                buttons=[{"id": f"csat:{n}", "title": str(n)} for n in range(1, 6)])
    contact, csat = (c.params["reply_markup"] for c in bot_api.sent())
    assert contact["keyboard"] == [[{"text": "Share my phone number", "request_contact": True}]]
    assert csat["inline_keyboard"][0][4] == {"text": "5", "callback_data": "csat:5"}


async def test_flood_control_and_server_errors_are_retried(
    omni: OmniServer, bot_api: FakeBotApi, thread: dict[str, Any]
) -> None:
    bot_api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    bot_api.fail("sendMessage", 500, "Internal Server Error")
    sent = await reply(omni, thread, text="Thanks for waiting")
    assert sent["status"] == "sent"
    assert len(bot_api.calls_to("sendMessage")) == 3


async def test_a_blocked_bot_fails_the_message_and_marks_the_identity(
    omni: OmniServer, bot_api: FakeBotApi, thread: dict[str, Any]
) -> None:
    bot_api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    sent = await reply(omni, thread, text="Are you still there?")
    assert (sent["status"], sent["error"]) == ("failed", "Forbidden: bot was blocked by the user")
    assert len(bot_api.calls_to("sendMessage")) == 1
    assert [i["reachable"] for i in (await only_customer(omni))["identities"]] == [False]


async def test_a_bad_request_fails_with_telegrams_reason(
    omni: OmniServer, bot_api: FakeBotApi, thread: dict[str, Any]
) -> None:
    bot_api.fail("sendMessage", 400, "Bad Request: chat not found")
    sent = await reply(omni, thread, text="Hello?")
    assert (sent["status"], sent["error"]) == ("failed", "Bad Request: chat not found")
    assert len(bot_api.calls_to("sendMessage")) == 1
    assert [i["reachable"] for i in (await only_customer(omni))["identities"]] == [True]
