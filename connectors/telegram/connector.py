"""The Telegram connector: limits, sends through aiogram's Bot, provider set-up, files.

aiogram is imported on first use (parse, send, webhook set-up, polling, files), never at
start-up: importing it costs ~130 MB RSS and seconds of CPU per worker, which a deployment
without Telegram channels should not pay. So this module, the config schema and the webhook
route stay free of aiogram; everything that needs it is imported inside the methods below.
"""

from __future__ import annotations

import builtins
import logging
import posixpath
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from fastapi import APIRouter
from pydantic import BaseModel

from connectors.base import (
    ActionEvent,
    Attachment,
    AttachmentStream,
    BaseConnector,
    Channel,
    ChannelLimits,
    DeliveryError,
    IdentityKind,
    InboundGateway,
    InboundItem,
    OutboundMessage,
    RawEvent,
    ReceiverFactory,
    Recipient,
    SendResult,
)
from connectors.telegram.schemas import ALLOWED_UPDATES, TelegramChannelConfig, channel_config
from connectors.telegram.webhook import WEBHOOKS, build_router
from connectors.webhooks import Webhook

if TYPE_CHECKING:
    from connectors.telegram.bots import BotPool

log = logging.getLogger("omniroute.telegram")

# Long replies split into several messages; remember how far a send got so a retry after a
# failure mid-way sends only the rest (bounded: a forgotten entry only risks a repeated part).
MAX_RESUMABLE_SENDS = 1000


class TelegramConnector(BaseConnector):
    type: ClassVar[str] = "telegram"
    # Bot API FAQ (revisit if Telegram changes them): about one message per second per chat,
    # 30 per second per bot. Text is split into 4,096-character messages by send(), so the
    # core may hand over replies as long as agents write them.
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        max_text_length=65_536, supports_media=True,
        per_chat_per_second=1.0, per_channel_per_second=30.0)
    identity_kind: ClassVar[IdentityKind] = "telegram"
    # A Telegram user id is the same person whichever bot they talk to.
    identity_per_channel: ClassVar[bool] = False
    config_model: ClassVar[builtins.type[BaseModel]] = TelegramChannelConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"bot_token", "webhook_secret"})
    generated_secrets: ClassVar[frozenset[str]] = frozenset({"webhook_secret"})

    def __init__(self) -> None:
        self._bots: BotPool | None = None
        self._progress: OrderedDict[tuple[str, int], list[str]] = OrderedDict()

    @property
    def bots(self) -> BotPool:
        if self._bots is None:
            from connectors.telegram.bots import BotPool

            self._bots = BotPool()
        return self._bots

    def routes(self) -> APIRouter:
        return build_router()

    def webhooks(self) -> Sequence[Webhook]:
        return WEBHOOKS

    def parse(self, raw: RawEvent) -> list[InboundItem]:
        from connectors.telegram.parse import parse_update

        return parse_update(raw)

    async def send(self, channel: Channel, msg: OutboundMessage) -> SendResult:
        from aiogram.exceptions import AiogramError

        from connectors.telegram import outbound
        from connectors.telegram.errors import delivery_error

        bot = self.bots.bot(channel_config(channel))
        plan = outbound.plan(bot, msg, self.fetcher)
        key = (channel.id, msg.message_id)
        done = self._progress.pop(key, [])
        try:
            sent = await outbound.run(plan, done)
        except AiogramError as exc:
            error = delivery_error(exc)
            if error.retryable:
                self._remember(key, done)
            elif done:
                error.reason = (f"{error.reason} (after {len(done)} of {len(plan.steps)} "
                                "parts were delivered)")
            raise error from exc
        except BaseException:
            # Cancelled by the outbox's send timeout (or something unforeseen): the core will
            # try again, and the parts already out must not go twice.
            self._remember(key, done)
            raise
        return SendResult(external_id=sent[0], extra_external_ids=tuple(sent[1:]))

    def _remember(self, key: tuple[str, int], done: list[str]) -> None:
        if not done:
            return
        self._progress[key] = done
        while len(self._progress) > MAX_RESUMABLE_SENDS:
            self._progress.popitem(last=False)

    async def on_channel_saved(self, channel: Channel, public_url: str | None) -> None:
        config = channel_config(channel)
        bot = self.bots.bot(config)
        if config.mode == "polling":
            # Polling and a webhook exclude each other at Telegram.
            await bot.delete_webhook(drop_pending_updates=False)
            return
        if public_url is None:
            log.warning("channel %s: OMNIROUTE_PUBLIC_URL is not set, so Telegram's webhook "
                        "is left as it is; set it, or use mode 'polling'", channel.id)
            return
        await bot.set_webhook(
            url=f"{public_url.rstrip('/')}/webhooks/telegram/{channel.id}",
            secret_token=config.webhook_secret, allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=False)

    async def on_channel_deleted(self, channel: Channel) -> None:
        config = channel_config(channel)
        if config.mode == "webhook":
            await self.bots.bot(config).delete_webhook(drop_pending_updates=False)

    def receiver(self, channel: Channel) -> ReceiverFactory | None:
        if channel_config(channel).mode != "polling":
            return None

        async def run(channel: Channel, gateway: InboundGateway) -> None:
            from connectors.telegram.polling import poll

            await poll(self.bots.bot(channel_config(channel)), channel, gateway)

        return run

    async def open_attachment(self, channel: Channel, attachment: Attachment) -> AttachmentStream:
        if attachment.provider_ref is None:
            return await super().open_attachment(channel, attachment)
        from aiogram.exceptions import AiogramError

        from connectors.telegram.errors import delivery_error

        bot = self.bots.bot(channel_config(channel))
        try:
            file = await bot.get_file(attachment.provider_ref)
        except AiogramError as exc:
            raise delivery_error(exc) from exc
        if not file.file_path:
            raise DeliveryError("Telegram did not hand out a download path (the Bot API only "
                                "serves files up to 20 MB)", retryable=False)
        config = channel_config(channel)
        url = bot.session.api.file_url(bot.token, file.file_path)
        filename = attachment.filename or posixpath.basename(file.file_path)
        # The file server is the Bot API server the channel's admin configured (maybe a
        # self-hosted one on an internal address): that origin only is trusted.
        return await self.fetcher.open(url, mime_type=attachment.mime_type, filename=filename,
                                       trusted_origin=config.api_base_url)

    async def agent_typing(self, channel: Channel, recipient: Recipient) -> None:
        from aiogram.exceptions import AiogramError

        try:
            await self.bots.bot(channel_config(channel)).send_chat_action(
                int(recipient.external_user_id), "typing")
        except (AiogramError, ValueError) as exc:
            # A typing hint that does not arrive harms nobody; the reply itself will report.
            log.info("sendChatAction failed on channel %s: %s", channel.id, exc)

    async def close_controls(self, channel: Channel, action: ActionEvent, text: str) -> bool:
        """Edit the message whose button was tapped: `text` instead, and no keyboard."""
        from aiogram.exceptions import AiogramError

        from connectors.telegram.chats import split_ref

        ref = split_ref(action.external_message_id or "")
        if ref is None:
            return False
        try:
            await self.bots.bot(channel_config(channel)).edit_message_text(
                text=text, chat_id=ref[0], message_id=ref[1])
        except AiogramError as exc:
            # The rating is stored; a keyboard left in place only invites a second tap,
            # which is answered politely.
            log.info("editMessageText failed on channel %s: %s", channel.id, exc)
            return False
        return True

    async def close(self) -> None:
        # No pool means aiogram was never needed: shutting down must not import it either.
        if self._bots is not None:
            await self._bots.close()
