"""WhatsApp Cloud API channel: signed webhooks in, Graph API messages out."""

from __future__ import annotations

import builtins
import logging
from collections import OrderedDict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from fastapi import APIRouter
from pydantic import BaseModel

from connectors.base import (
    Attachment,
    AttachmentStream,
    BaseConnector,
    Channel,
    ChannelLimits,
    DeliveryError,
    IdentityKind,
    InboundItem,
    NotSupported,
    OutboundMessage,
    RawEvent,
    SendResult,
)
from connectors.webhooks import Webhook
from connectors.whatsapp.graph import GraphClient, auth_headers, graph_base_url
from connectors.whatsapp.outbound import MAX_TEXT, envelope, message_bodies
from connectors.whatsapp.parse import parse_notification
from connectors.whatsapp.schemas import WhatsAppChannelConfig
from connectors.whatsapp.webhook import WEBHOOKS, build_router

log = logging.getLogger("omniroute.whatsapp")
SENT_PARTS_KEPT = 10_000


class WhatsAppConnector(BaseConnector):
    type: ClassVar[str] = "whatsapp"
    # Cloud API facts (revisit when Meta changes them): 4,096-character text bodies, 80
    # messages per second per business number by default, and free-form replies only within
    # 24 hours of the customer's last message.
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        max_text_length=MAX_TEXT,
        supports_media=True,
        per_channel_per_second=80,
        reply_window=timedelta(hours=24),
    )
    identity_kind: ClassVar[IdentityKind] = "whatsapp"
    # A wa_id is the customer's phone number: the same person on any of our numbers.
    identity_per_channel: ClassVar[bool] = False
    config_model: ClassVar[builtins.type[BaseModel]] = WhatsAppChannelConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"access_token", "app_secret", "verify_token"})
    generated_secrets: ClassVar[frozenset[str]] = frozenset({"verify_token"})

    def __init__(self) -> None:
        self.graph = GraphClient()
        # Parts of a split reply already accepted by Meta, so a retry after a later part
        # failed does not send the earlier ones twice (per process; bounded).
        self._sent_parts: OrderedDict[tuple[str, int], list[str]] = OrderedDict()

    def routes(self) -> APIRouter:
        return build_router()

    def webhooks(self) -> Sequence[Webhook]:
        return WEBHOOKS

    def parse(self, raw: RawEvent) -> list[InboundItem]:
        return parse_notification(raw)

    async def send(self, channel: Channel, msg: OutboundMessage) -> SendResult:
        to = msg.recipient.external_user_id.lstrip("+")
        bodies = message_bodies(msg)
        key = (channel.id, msg.message_id)
        ids = self._sent_parts.pop(key, [])
        try:
            for index, body in enumerate(bodies[len(ids):], start=len(ids)):
                # Quote the customer's message once, on the first part.
                quote = msg.reply_to_external_id if index == 0 else None
                ids.append(await self.graph.send_message(channel.config,
                                                         envelope(to, body, quote)))
        except DeliveryError:
            if ids:
                self._sent_parts[key] = ids
                while len(self._sent_parts) > SENT_PARTS_KEPT:
                    self._sent_parts.popitem(last=False)
            raise
        return SendResult(external_id=ids[0], status="sent", extra_external_ids=tuple(ids[1:]))

    async def open_attachment(self, channel: Channel, attachment: Attachment) -> AttachmentStream:
        if attachment.provider_ref is None:
            return await super().open_attachment(channel, attachment)
        info = await self.graph.media(channel.config, attachment.provider_ref)
        # Meta's media URLs need the same bearer token as the Graph API itself. The URL is
        # Meta's answer, so it is fetched guarded; only the Graph server the admin configured
        # is trusted (a redirect elsewhere loses the token: httpx drops it across origins).
        stream = await self.fetcher.open(
            info.url, mime_type=attachment.mime_type or info.mime_type,
            filename=attachment.filename, headers=auth_headers(channel.config),
            trusted_origin=graph_base_url(channel.config))
        if stream.size is None and info.file_size is not None:
            return AttachmentStream(mime_type=stream.mime_type, chunks=stream.chunks,
                                    size=info.file_size, filename=stream.filename,
                                    close=stream.close)
        return stream

    async def templates(self, channel: Channel) -> list[dict[str, Any]]:
        account = channel.config.get("business_account_id")
        if not account:
            raise NotSupported("this WhatsApp channel has no business_account_id; set it to "
                               "list the account's message templates")
        # A DeliveryError goes up as it is: the core answers 502 and marks a revoked token.
        found = await self.graph.approved_templates(channel.config, str(account))
        return [{"id": t.get("id"), "name": t.get("name"), "language": t.get("language"),
                 "category": t.get("category"), "status": t.get("status"),
                 "components": t.get("components", [])}
                for t in found if t.get("status", "APPROVED") == "APPROVED"]

    async def on_channel_saved(self, channel: Channel, public_url: str | None) -> None:
        # Webhook subscription is set up in Meta's app dashboard with the channel's webhook URL
        # and verify token; here we only prove the token and phone number id are right, so a
        # typo shows in the channel's health at once instead of at the first reply.
        try:
            await self.graph.check_phone_number(channel.config)
        except DeliveryError as exc:
            if exc.retryable:
                log.warning("could not reach WhatsApp to check channel %s: %s", channel.id,
                            exc.reason)
                return
            raise RuntimeError(exc.reason) from None

    async def close(self) -> None:
        await self.graph.close()
