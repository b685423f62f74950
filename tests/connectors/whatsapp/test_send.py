"""send(), templates() and open_attachment() against the fake Graph API: request in → answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.base import (
    Attachment,
    Channel,
    DeliveryError,
    NotSupported,
    OutboundAttachment,
    OutboundMessage,
    Recipient,
    ReplyButton,
    SendResult,
)
from connectors.whatsapp.connector import WhatsAppConnector
from tests.connectors.whatsapp.fake_graph import MEDIA_BYTES, TEMPLATES, FakeGraph, graph_error
from tests.connectors.whatsapp.fixtures import ACCESS_TOKEN, PHONE_NUMBER_ID
from tests.origin_server import OriginServer

TO = "16505551234"
ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO}


@pytest.fixture
async def connector() -> AsyncIterator[WhatsAppConnector]:
    made = WhatsAppConnector()
    yield made
    await made.close()


@pytest.fixture
def channel(wa_config: dict[str, Any]) -> Channel:
    return Channel(id="ch_wa", type="whatsapp", name="Support", config=wa_config)


def reply(text: str = "", **fields: Any) -> OutboundMessage:
    return OutboundMessage(message_id=7, thread_id=3, recipient=Recipient(TO, "Sheena"),
                           text=text, **fields)


async def test_text(connector: WhatsAppConnector, channel: Channel, graph: FakeGraph) -> None:
    result = await connector.send(channel, reply("Blue and green, too."))
    assert result == SendResult(external_id="wamid.FAKE0001", status="sent")
    assert graph.sent == [{**ENVELOPE, "type": "text",
                           "text": {"preview_url": False, "body": "Blue and green, too."}}]
    assert graph.calls[0].path == f"/v23.0/{PHONE_NUMBER_ID}/messages"
    assert graph.calls[0].authorization == f"Bearer {ACCESS_TOKEN}"


async def test_long_text_is_split_at_a_word_and_quotes_once(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    words = "word " * 1000  # 5,000 characters
    result = await connector.send(channel, reply(words.strip(), reply_to_external_id="wamid.IN1"))
    assert result == SendResult(external_id="wamid.FAKE0001", status="sent",
                                extra_external_ids=("wamid.FAKE0002",))
    first, second = graph.sent
    assert first["context"] == {"message_id": "wamid.IN1"}
    assert "context" not in second
    assert first["text"]["body"] == ("word " * 819).strip()
    assert second["text"]["body"] == ("word " * 181).strip()


async def test_three_buttons_are_reply_buttons(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    buttons = (ReplyButton("csat-1", "Unhappy"), ReplyButton("csat-3", "Okay"),
               ReplyButton("csat-5", "Very happy"))
    await connector.send(channel, reply("How did we do?", buttons=buttons))
    assert graph.sent == [{**ENVELOPE, "type": "interactive", "interactive": {
        "type": "button", "body": {"text": "How did we do?"},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": "csat-1", "title": "Unhappy"}},
            {"type": "reply", "reply": {"id": "csat-3", "title": "Okay"}},
            {"type": "reply", "reply": {"id": "csat-5", "title": "Very happy"}}]}}}]


async def test_more_than_three_buttons_become_a_list(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    buttons = tuple(ReplyButton(f"csat-{n}", f"{n} stars") for n in range(1, 6))
    await connector.send(channel, reply("", buttons=buttons))
    assert graph.sent == [{**ENVELOPE, "type": "interactive", "interactive": {
        "type": "list", "body": {"text": "Please choose an option."},
        "action": {"button": "Choose", "sections": [{"rows": [
            {"id": f"csat-{n}", "title": f"{n} stars"} for n in range(1, 6)]}]}}}]


async def test_media_by_link_with_caption_and_filename(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    attachments = (OutboundAttachment("https://files.example.com/a.png", "image/png"),
                   OutboundAttachment("https://files.example.com/r.pdf", "application/pdf",
                                      "receipt.pdf"))
    result = await connector.send(channel, reply("Here you are", attachments=attachments))
    assert result.extra_external_ids == ("wamid.FAKE0002",)
    assert graph.sent == [
        {**ENVELOPE, "type": "image",
         "image": {"link": "https://files.example.com/a.png", "caption": "Here you are"}},
        {**ENVELOPE, "type": "document",
         "document": {"link": "https://files.example.com/r.pdf", "filename": "receipt.pdf"}},
    ]


async def test_audio_cannot_carry_a_caption_so_text_goes_first(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    attachments = (OutboundAttachment("https://files.example.com/v.ogg", "audio/ogg"),)
    await connector.send(channel, reply("Listen:", attachments=attachments))
    assert [m["type"] for m in graph.sent] == ["text", "audio"]
    assert graph.sent[1]["audio"] == {"link": "https://files.example.com/v.ogg"}


async def test_template(connector: WhatsAppConnector, channel: Channel, graph: FakeGraph) -> None:
    components = [{"type": "body", "parameters": [{"type": "text", "text": "#1042"}]}]
    await connector.send(channel, reply("order update for #1042", template={
        "name": "order_update", "language": "en_US", "components": components}))
    assert graph.sent == [{**ENVELOPE, "type": "template", "template": {
        "name": "order_update", "language": {"code": "en_US"}, "components": components}}]


@pytest.mark.parametrize(("status", "body", "expected"), [
    (400, graph_error(130429, "(#130429) Rate limit hit"),
     {"retryable": True, "window_closed": False, "channel_unhealthy": False}),
    (400, graph_error(131056, "(#131056) (Business Account, Consumer Account) pair rate limit "
                              "hit"),
     {"retryable": True, "window_closed": False, "channel_unhealthy": False}),
    (400, graph_error(131047, "(#131047) Re-engagement message",
                      "Message failed to send because more than 24 hours have passed since "
                      "the customer last replied to this number."),
     {"retryable": False, "window_closed": True, "channel_unhealthy": False}),
    (400, graph_error(190, "Error validating access token: Session has expired"),
     {"retryable": False, "window_closed": False, "channel_unhealthy": True}),
    (503, "upstream connect error",
     {"retryable": True, "window_closed": False, "channel_unhealthy": False}),
    (400, graph_error(131009, "(#131009) Parameter value is not valid",
                      "Recipient phone number not in allowed list"),
     {"retryable": False, "window_closed": False, "channel_unhealthy": False}),
])
async def test_errors_are_classified(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph,
    status: int, body: dict[str, Any] | str, expected: dict[str, bool],
) -> None:
    graph.fail_next(status, body)
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel, reply("hello"))
    error = caught.value
    assert {"retryable": error.retryable, "window_closed": error.window_closed,
            "channel_unhealthy": error.channel_unhealthy} == expected


async def test_other_refusals_say_what_meta_said(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    graph.fail_next(400, graph_error(131009, "(#131009) Parameter value is not valid",
                                     "Recipient phone number not in allowed list"))
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel, reply("hello"))
    assert caught.value.reason == ("(131009) WhatsApp refused the message: (#131009) Parameter "
                                   "value is not valid: Recipient phone number not in allowed "
                                   "list")


async def test_window_closed_reason_suggests_a_template(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    graph.fail_next(400, graph_error(131047, "(#131047) Re-engagement message"))
    with pytest.raises(DeliveryError, match="24-hour customer service window is closed; "
                                            "WhatsApp only accepts an approved template"):
        await connector.send(channel, reply("hello"))


async def test_rate_limit_honours_retry_after(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    graph.fail_next(429, graph_error(130429, "(#130429) Rate limit hit"), {"Retry-After": "7"})
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel, reply("hello"))
    assert (caught.value.retryable, caught.value.retry_after) == (True, 7.0)


async def test_a_wrong_token_marks_the_channel_unhealthy(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    bad = Channel(id=channel.id, type="whatsapp", name="Support",
                  config={**channel.config, "access_token": "EAAexpired"})
    with pytest.raises(DeliveryError) as caught:
        await connector.send(bad, reply("hello"))
    assert (caught.value.retryable, caught.value.channel_unhealthy) == (False, True)
    assert caught.value.reason.startswith("(190) the access token was refused")


async def test_unreachable_graph_is_retried(connector: WhatsAppConnector,
                                            channel: Channel, graph: FakeGraph) -> None:
    await graph.stop()
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel, reply("hello"))
    assert caught.value.retryable is True


async def test_a_slow_graph_is_a_retryable_timeout(channel: Channel, graph: FakeGraph) -> None:
    import asyncio

    from connectors.whatsapp.graph import GraphClient

    async def stall(_: str) -> None:
        await asyncio.sleep(2)

    graph.before_answer = stall
    connector = WhatsAppConnector()
    connector.graph = GraphClient(timeout=0.2)
    try:
        with pytest.raises(DeliveryError, match="did not answer in time") as caught:
            await connector.send(channel, reply("hello"))
        assert caught.value.retryable is True
    finally:
        await connector.close()


async def test_nothing_to_send_is_permanent(connector: WhatsAppConnector,
                                            channel: Channel) -> None:
    with pytest.raises(DeliveryError, match="no text, attachment, button or template") as caught:
        await connector.send(channel, reply(""))
    assert caught.value.retryable is False


async def test_templates_follow_the_paging_cursor(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    found = await connector.templates(channel)
    assert [(t["name"], t["language"]) for t in found] == [
        ("order_update", "en_US"), ("we_miss_you", "en_US"), ("appointment_reminder", "de")]
    assert found[0] == {key: TEMPLATES[0][key] for key in
                        ("id", "name", "language", "category", "status", "components")}
    assert [c.query.get("after") for c in graph.calls] == [None, "QVFIUk1"]
    assert graph.calls[0].query["status"] == "APPROVED"


async def test_templates_need_the_business_account(connector: WhatsAppConnector,
                                                   channel: Channel) -> None:
    config = {k: v for k, v in channel.config.items() if k != "business_account_id"}
    with pytest.raises(NotSupported, match="no business_account_id"):
        await connector.templates(Channel(id="ch", type="whatsapp", name="x", config=config))


async def test_template_list_failure_is_a_retryable_delivery_error(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    graph.fail_next(500, graph_error(2, "Service temporarily unavailable", type_="OAuthException"))
    with pytest.raises(DeliveryError) as caught:
        await connector.templates(channel)
    assert caught.value.retryable is True


async def test_media_is_resolved_then_streamed_with_the_token(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    stream = await connector.open_attachment(channel, Attachment(
        kind="image", mime_type="image/jpeg", provider_ref="1003383421387256"))
    body = b"".join([chunk async for chunk in stream.chunks])
    assert body == MEDIA_BYTES
    assert (stream.mime_type, stream.size) == ("image/jpeg", len(MEDIA_BYTES))
    assert [(c.path, c.authorization) for c in graph.calls] == [
        ("/v23.0/1003383421387256", f"Bearer {ACCESS_TOKEN}"),
        ("/download/1003383421387256", f"Bearer {ACCESS_TOKEN}"),
    ]


async def test_unknown_media_is_a_permanent_error(connector: WhatsAppConnector,
                                                  channel: Channel) -> None:
    with pytest.raises(DeliveryError, match="does not exist") as caught:
        await connector.open_attachment(channel, Attachment(kind="image", provider_ref="42"))
    assert caught.value.retryable is False


async def test_channel_check_refuses_a_wrong_phone_number_id(
    connector: WhatsAppConnector, channel: Channel
) -> None:
    await connector.on_channel_saved(channel, None)
    wrong = Channel(id="ch", type="whatsapp", name="x",
                    config={**channel.config, "phone_number_id": "111"})
    with pytest.raises(RuntimeError, match="does not exist"):
        await connector.on_channel_saved(wrong, None)


async def test_a_retry_after_a_failed_part_does_not_resend_earlier_parts(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph
) -> None:
    attachments = (OutboundAttachment("https://files.example.com/v.ogg", "audio/ogg"),)
    message = reply("Listen:", attachments=attachments)
    # The text goes through, then the audio hits the throughput limit.
    graph.fail_next(400, graph_error(130429, "(#130429) Rate limit hit"), after=1)
    with pytest.raises(DeliveryError) as caught:
        await connector.send(channel, message)
    assert caught.value.retryable is True
    result = await connector.send(channel, message)
    assert result == SendResult(external_id="wamid.FAKE0001", status="sent",
                                extra_external_ids=("wamid.FAKE0002",))
    assert [m["type"] for m in graph.sent] == ["text", "audio"]


@pytest.mark.parametrize(("text", "limit", "parts"), [
    ("short", 10, ["short"]),
    ("", 10, []),
    ("first para\n\nsecond one", 15, ["first para", "second one"]),
    ("line one\nline two", 12, ["line one", "line two"]),
    ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
])
def test_split_text(text: str, limit: int, parts: list[str]) -> None:
    from connectors.whatsapp.outbound import split_text

    assert split_text(text, limit) == parts


def test_split_prefers_a_paragraph_break_over_a_later_space() -> None:
    from connectors.whatsapp.outbound import split_text

    text = "aaaa aaaa aaaa\n\nbbbb bbbb bbbb"
    assert split_text(text, 22) == ["aaaa aaaa aaaa", "bbbb bbbb bbbb"]


async def test_a_media_url_off_the_graph_server_is_fetched_guarded(
    connector: WhatsAppConnector, channel: Channel, graph: FakeGraph, origin: OriginServer
) -> None:
    # Only the Graph server the admin configured is trusted; a media URL Meta's answer points
    # elsewhere inside (and the access token with it) is refused.
    graph.media_base = f"{origin.url}/files"
    with pytest.raises(DeliveryError, match="loopback") as caught:
        await connector.open_attachment(channel, Attachment(
            kind="image", mime_type="image/jpeg", provider_ref="1003383421387256"))
    assert caught.value.retryable is False
    assert origin.seen == []
    assert connector.fetcher.open_clients == 0
