"""Webhook set-up and tear-down, file downloads and typing, against the fake Bot API."""

from __future__ import annotations

import dataclasses

import pytest

from connectors.base import Attachment, ChannelLimits, DeliveryError, Recipient
from connectors.telegram.connector import TelegramConnector
from tests.connectors.telegram.conftest import WEBHOOK_SECRET, channel_for
from tests.connectors.telegram.fake_bot_api import FakeBotApi


async def test_saving_a_webhook_channel_sets_the_webhook(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    await connector.on_channel_saved(channel_for(bot_api), "https://help.acme.example/")
    [call] = bot_api.calls_to("setWebhook")
    assert call.params == {
        "url": "https://help.acme.example/webhooks/telegram/ch_tg",
        "secret_token": WEBHOOK_SECRET,
        "allowed_updates": ["message", "edited_message", "callback_query", "my_chat_member"],
        "drop_pending_updates": "false",
    }


async def test_without_a_public_url_telegram_is_left_alone(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    await connector.on_channel_saved(channel_for(bot_api), None)
    assert bot_api.calls == []


async def test_a_polling_channel_removes_any_webhook(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    await connector.on_channel_saved(channel_for(bot_api, mode="polling"), "https://x.example")
    assert [c.method for c in bot_api.calls] == ["deleteWebhook"]


async def test_a_wrong_token_surfaces_on_save(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    channel = channel_for(bot_api)
    wrong = dataclasses.replace(channel, config={
        **channel.config, "bot_token": "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
    with pytest.raises(Exception, match="Unauthorized"):
        await connector.on_channel_saved(wrong, "https://help.acme.example")


async def test_deleting_a_webhook_channel_deletes_the_webhook(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    await connector.on_channel_deleted(channel_for(bot_api))
    assert [c.method for c in bot_api.calls] == ["deleteWebhook"]
    bot_api.calls.clear()
    await connector.on_channel_deleted(channel_for(bot_api, mode="polling"))
    assert bot_api.calls == []


async def test_receiver_only_in_polling_mode(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    assert connector.receiver(channel_for(bot_api)) is None
    assert connector.receiver(channel_for(bot_api, mode="polling")) is not None


async def test_an_attachment_streams_from_the_file_server(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    content = b"\xff\xd8\xff\xe0 jpeg bytes " * 5000
    bot_api.add_file("AgACphoto", "photos/file_7.jpg", content)
    stream = await connector.open_attachment(channel_for(bot_api), Attachment(
        kind="image", mime_type="image/jpeg", provider_ref="AgACphoto"))
    assert (stream.mime_type, stream.filename, stream.size) == ("image/jpeg", "file_7.jpg",
                                                               len(content))
    assert b"".join([chunk async for chunk in stream.chunks]) == content
    assert bot_api.calls_to("getFile")[0].params == {"file_id": "AgACphoto"}


async def test_an_unknown_file_is_a_permanent_error(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    with pytest.raises(DeliveryError, match="invalid file_id") as caught:
        await connector.open_attachment(channel_for(bot_api), Attachment(
            kind="image", provider_ref="gone"))
    assert caught.value.retryable is False


async def test_typing_is_shown_and_its_failure_ignored(
    bot_api: FakeBotApi, connector: TelegramConnector
) -> None:
    await connector.agent_typing(channel_for(bot_api), Recipient("5120934412"))
    bot_api.fail("sendChatAction", 403, "Forbidden: bot was blocked by the user")
    await connector.agent_typing(channel_for(bot_api), Recipient("5120934412"))
    assert [c.params for c in bot_api.calls_to("sendChatAction")] == [
        {"chat_id": "5120934412", "action": "typing"}] * 2


def test_telegram_facts_the_core_plans_around() -> None:
    assert TelegramConnector.limits == ChannelLimits(
        max_text_length=65_536, supports_media=True, per_chat_per_second=1.0,
        per_channel_per_second=30.0)
    assert (TelegramConnector.identity_kind, TelegramConnector.identity_per_channel) == (
        "telegram", False)
    assert TelegramConnector.secret_fields == {"bot_token", "webhook_secret"}
    assert TelegramConnector.generated_secrets == {"webhook_secret"}
