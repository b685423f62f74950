"""Telegram channel config and the Bot API facts the connector plans around.

Update payloads themselves are read with aiogram's own types (`aiogram.types.Update`): they
track the Bot API release by release, which a hand-written copy here would not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from connectors.base import Channel

DEFAULT_API_BASE_URL = "https://api.telegram.org"
# The header Telegram sends with every webhook call once setWebhook had a secret_token.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What we ask Telegram for (setWebhook / getUpdates); everything else is never delivered.
ALLOWED_UPDATES: tuple[str, ...] = ("message", "edited_message", "callback_query",
                                    "my_chat_member")
# Bot API: "Text of the message to be sent, 1-4096 characters after entities parsing".
MESSAGE_TEXT_LIMIT = 4096
# Bot API: callback_data is 1-64 bytes.
CALLBACK_DATA_LIMIT = 64


class TelegramChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # "123456:ABC-DEF..." as BotFather hands it out.
    bot_token: str = Field(pattern=r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")
    mode: Literal["webhook", "polling"] = "webhook"
    # setWebhook's secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
    webhook_secret: str = Field(pattern=r"^[A-Za-z0-9_-]{16,256}$")
    # Bot API server (a local telegram-bot-api, or a fake in tests); files are served
    # from <api_base_url>/file/bot<token>/<path>, as aiogram's TelegramAPIServer.from_base.
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL, pattern=r"^https?://[^\s]+$",
                              max_length=500)


def channel_config(channel: Channel) -> TelegramChannelConfig:
    """The stored config read back with its defaults (the core keeps it without None values)."""
    return TelegramChannelConfig.model_validate(dict(channel.config))
