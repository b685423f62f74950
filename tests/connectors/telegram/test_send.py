"""Replies through aiogram's Bot against the fake Bot API: what is called, what comes back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from connectors.base import (
    DeliveryError,
    OutboundAttachment,
    OutboundMessage,
    Recipient,
    ReplyButton,
    SendResult,
)
from connectors.telegram.connector import TelegramConnector
from tests.connectors.telegram.conftest import channel_for
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.memory_gateway import eventually
from tests.origin_server import OriginServer

CHAT = 5120934412


def reply(text: str = "Hello Amelia", message_id: int = 1, **extra: Any) -> OutboundMessage:
    return OutboundMessage(message_id=message_id, thread_id=1,
                           recipient=Recipient(str(CHAT), "Amelia"), text=text, **extra)


async def test_plain_reply(bot_api: FakeBotApi, connector: TelegramConnector) -> None:
    result = await connector.send(channel_for(bot_api), reply())
    assert result == SendResult(external_id=f"{CHAT}:2001")
    [call] = bot_api.sent()
    assert call.method == "sendMessage"
    assert call.params == {"chat_id": str(CHAT), "text": "Hello Amelia"}


async def test_long_text_goes_in_parts_and_all_ids_come_back(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    first = "We looked into it. " * 150
    second = "Here is what happens next. " * 100
    result = await connector.send(channel_for(bot_api), reply(f"{first}\n\n{second}"))
    assert [c.params["text"] for c in bot_api.sent()] == [first.strip(), second.strip()]
    assert result == SendResult(external_id=f"{CHAT}:2001",
                                extra_external_ids=(f"{CHAT}:2002",))


async def test_quote_on_the_first_part_and_buttons_on_the_last(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    text = "a" * 4090 + "\n\nHow did we do?"
    await connector.send(channel_for(bot_api), reply(
        text, reply_to_external_id=f"{CHAT}:1021",
        buttons=tuple(ReplyButton(f"csat:{n}", str(n)) for n in range(1, 6))))
    first, last = bot_api.sent()
    assert first.params["reply_parameters"] == {"message_id": 1021,
                                                "allow_sending_without_reply": True}
    assert "reply_markup" not in first.params
    assert "reply_parameters" not in last.params
    assert last.params["reply_markup"] == {"inline_keyboard": [[
        {"text": str(n), "callback_data": f"csat:{n}"} for n in range(1, 6)]]}


async def test_long_button_labels_stack(bot_api: FakeBotApi, connector: TelegramConnector) -> None:
    await connector.send(channel_for(bot_api), reply(buttons=(
        ReplyButton("yes", "Yes, solved"), ReplyButton("no", "Still broken"))))
    assert bot_api.sent()[0].params["reply_markup"] == {"inline_keyboard": [
        [{"text": "Yes, solved", "callback_data": "yes"}],
        [{"text": "Still broken", "callback_data": "no"}]]}


async def test_share_phone_button(bot_api: FakeBotApi, connector: TelegramConnector) -> None:
    await connector.send(channel_for(bot_api), reply("May we have your number?",
                                                    request_contact=True))
    assert bot_api.sent()[0].params["reply_markup"] == {
        "keyboard": [[{"text": "Share my phone number", "request_contact": True}]],
        "resize_keyboard": True, "one_time_keyboard": True}


async def test_a_quote_from_another_chat_is_not_attempted(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    await connector.send(channel_for(bot_api), reply(reply_to_external_id="999:5"))
    assert "reply_parameters" not in bot_api.sent()[0].params


async def test_attachments_by_url_after_the_text(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    result = await connector.send(channel_for(bot_api), reply("Your label:", attachments=(
        OutboundAttachment("https://cdn.example.com/label.png", "image/png"),
        OutboundAttachment("https://cdn.example.com/terms.pdf", "application/pdf"))))
    assert [(c.method, c.params.get("photo") or c.params.get("document"))
            for c in bot_api.sent()] == [
        ("sendMessage", None),
        ("sendPhoto", "https://cdn.example.com/label.png"),
        ("sendDocument", "https://cdn.example.com/terms.pdf")]
    assert result.extra_external_ids == (f"{CHAT}:2002", f"{CHAT}:2003")


async def test_a_url_telegram_cannot_reach_is_uploaded(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    # The "private" file lives on the fake's own file server, which aiogram can reach.
    bot_api.add_file("f1", "documents/manual.pdf", b"%PDF-1.7 manual")
    bot_api.unfetchable_hosts.add("127.0.0.1")
    url = f"{bot_api.url}/file/bot{TOKEN}/documents/manual.pdf"
    await connector.send(channel_for(bot_api), reply("", attachments=(
        OutboundAttachment(url, "application/pdf", "manual.pdf"),)))
    by_url, uploaded = bot_api.sent()
    assert by_url.params["document"] == url
    assert uploaded.params["document"].startswith("attach://")
    assert uploaded.files == {"document": b"%PDF-1.7 manual"}


@pytest.mark.parametrize("status, description, retry_after, expected", [
    (429, "Too Many Requests: retry after 7", 7,
     dict(retryable=True, retry_after=7.0, recipient_unreachable=False)),
    (403, "Forbidden: bot was blocked by the user", None,
     dict(retryable=False, retry_after=None, recipient_unreachable=True,
          reason="Forbidden: bot was blocked by the user")),
    (400, "Bad Request: chat not found", None,
     dict(retryable=False, recipient_unreachable=False,
          reason="Bad Request: chat not found")),
    (500, "Internal Server Error", None, dict(retryable=True, recipient_unreachable=False)),
    (502, "Bad Gateway", None, dict(retryable=True)),
    (401, "Unauthorized", None, dict(retryable=False, channel_unhealthy=True)),
])
async def test_errors_map_to_delivery_errors(
    bot_api: FakeBotApi, connector: TelegramConnector, status: int, description: str,
    retry_after: int | None, expected: dict[str, object],
) -> None:
    bot_api.fail("sendMessage", status, description, retry_after)
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel_for(bot_api), reply())
    for attr, value in expected.items():
        assert getattr(caught.value, attr) == value, attr


async def test_an_unreachable_api_server_is_retryable(connector: TelegramConnector) -> None:
    api = FakeBotApi()
    api.url = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel_for(api), reply())
    assert caught.value.retryable is True


async def test_a_retry_after_a_failed_part_sends_only_the_rest(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    text = ("First part. " * 300).strip() + "\n\n" + ("Second part. " * 300).strip()
    bot_api.fail_nth("sendMessage", 2, 500, "Internal Server Error")
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel_for(bot_api), reply(text, message_id=8))
    assert caught.value.retryable is True
    result = await connector.send(channel_for(bot_api), reply(text, message_id=8))
    assert [c.params["text"][:6] for c in bot_api.sent()] == ["First ", "Second", "Second"]
    assert result == SendResult(external_id=f"{CHAT}:2001",
                                extra_external_ids=(f"{CHAT}:2002",))


async def test_a_send_cut_off_by_the_outbox_timeout_resumes_where_it_stopped(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    text = ("First part. " * 300).strip() + "\n\n" + ("Second part. " * 300).strip()
    release = bot_api.hold_nth("sendMessage", 2)
    attempt = asyncio.create_task(connector.send(channel_for(bot_api), reply(text, message_id=5)))
    await eventually(lambda: len(bot_api.calls_to("sendMessage")) == 2)
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    release.set()
    result = await connector.send(channel_for(bot_api), reply(text, message_id=5))
    assert [c.params["text"][:6] for c in bot_api.sent()] == ["First ", "Second", "Second"]
    assert result.external_id == f"{CHAT}:2001"


async def test_a_permanent_failure_mid_way_says_what_was_delivered(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    text = ("First part. " * 300).strip() + "\n\n" + ("Second part. " * 300).strip()
    bot_api.fail_nth("sendMessage", 2, 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel_for(bot_api), reply(text, message_id=9))
    assert caught.value.reason == ("Forbidden: bot was blocked by the "
                                   "user (after 1 of 2 parts were delivered)")


async def test_buttons_and_share_phone_together_are_refused(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    with pytest.raises(DeliveryError, match="two replies") as caught:
        await connector.send(channel_for(bot_api), reply(
            buttons=(ReplyButton("a", "A"),), request_contact=True))
    assert caught.value.retryable is False
    assert bot_api.sent() == []


async def test_a_file_telegram_cannot_fetch_is_not_fetched_by_us_from_inside(
    bot_api: FakeBotApi, origin: OriginServer
) -> None:
    connector = TelegramConnector()  # no allow-list: the service's default
    bot_api.unfetchable_hosts.add("127.0.0.1")
    url = f"{origin.url}/files/meta"
    try:
        with pytest.raises(DeliveryError, match="loopback") as caught:
            await connector.send(channel_for(bot_api), reply("", attachments=(
                OutboundAttachment(url, "application/pdf", "meta.pdf"),)))
    finally:
        await connector.close()
    assert caught.value.retryable is False
    [by_url] = bot_api.sent()
    assert by_url.params["document"] == url
    assert origin.seen == []
    assert connector.fetcher.open_clients == 0
