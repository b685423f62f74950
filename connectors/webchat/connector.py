"""The web-chat channel: visitors on the site's widget, replies pushed over their WebSocket."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from fastapi import APIRouter
from pydantic import BaseModel

from connectors.base import (
    Attachment,
    AttachmentGone,
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
    Recipient,
    SendResult,
    UploadGone,
)
from connectors.webchat.intake import Runtime
from connectors.webchat.parse import parse_event
from connectors.webchat.schemas import MAX_TEXT_LENGTH, WebchatConfig
from connectors.webchat.webhook import build_router

# Kinds of cross-replica live delivery (the key is "<channel id>/<visitor id>", or a channel id).
PUSH = "webchat.push"
CLOSE = "webchat.close"


def external_id(message_id: int) -> str:
    return f"wc-{message_id}"


class WebchatConnector(BaseConnector):
    type: ClassVar[str] = "webchat"
    # Our own widget: the text cap is ours (keeps frames small), no pacing needed.
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_text_length=MAX_TEXT_LENGTH)
    identity_kind: ClassVar[IdentityKind] = "webchat"
    # Visitor ids are ours and random; site user ids are scoped by channel inside the id.
    identity_per_channel: ClassVar[bool] = False
    config_model: ClassVar[builtins.type[BaseModel]] = WebchatConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"identity_secret"})
    generated_secrets: ClassVar[frozenset[str]] = frozenset({"identity_secret"})

    def __init__(self) -> None:
        self.runtime = Runtime()

    def routes(self) -> APIRouter:
        return build_router(self.runtime)

    async def start(self, gateway: InboundGateway) -> None:
        await super().start(gateway)
        self.runtime.gateway = gateway
        gateway.on_live(PUSH, self._push_here)
        gateway.on_live(CLOSE, self._close_here)

    async def _push_here(self, key: str, frame: dict[str, Any]) -> int:
        channel_id, _, visitor_id = key.partition("/")
        return await self.runtime.live.push(channel_id, visitor_id, frame)

    async def _close_here(self, channel_id: str, frame: dict[str, Any]) -> int:
        return await self.runtime.live.close_channel(channel_id, int(frame["code"]),
                                                     str(frame["reason"]))

    async def _push(self, channel_id: str, visitor_id: str, frame: dict[str, Any]) -> int:
        """To the visitor's tabs here, else to those another replica holds."""
        pushed = await self.runtime.live.push(channel_id, visitor_id, frame)
        if pushed or self.runtime.gateway is None:
            return pushed
        return await self.runtime.gateway.deliver_live(PUSH, f"{channel_id}/{visitor_id}", frame)

    def parse(self, raw: RawEvent) -> list[InboundItem]:
        return parse_event(raw)

    async def open_attachment(self, channel: Channel, attachment: Attachment) -> AttachmentStream:
        """From our own upload store by id: the stored URL is never fetched back over HTTP."""
        if self.runtime.gateway is None or not attachment.provider_ref:
            raise DeliveryError("this web-chat file has no upload id", retryable=False)
        try:
            stored = await self.runtime.gateway.load_upload(channel, attachment.provider_ref)
        except UploadGone as exc:
            raise AttachmentGone(str(exc)) from None
        if stored is None:
            raise AttachmentGone(f"upload {attachment.provider_ref} is no longer kept")
        data = stored.data

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        return AttachmentStream(mime_type=stored.mime_type, chunks=chunks(), size=stored.size,
                                filename=attachment.filename or stored.filename)

    async def send(self, channel: Channel, msg: OutboundMessage) -> SendResult:
        """Pushed to the visitor's open tabs (in this replica or another); if none took it, the
        core mails a copy through the configured e-mail channel."""
        message: dict[str, Any] = {
            "id": msg.message_id, "direction": "outbound", "text": msg.text,
            "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "status": "delivered", "automatic": msg.automatic,
            "attachments": [{"url": a.url, "mime_type": a.mime_type, "filename": a.filename}
                            for a in msg.attachments]}
        if msg.survey is not None:
            # The widget shows the scores as stars; a tap sends back the chosen id.
            message["survey"] = {
                "question": msg.survey.get("question"),
                "scores": [{"score": s["score"], "id": s["id"]}
                           for s in msg.survey.get("scores", [])]}
        frame = {"type": "message", "message": message}
        pushed = await self._push(channel.id, msg.recipient.external_user_id, frame)
        if pushed:
            return SendResult(external_id=external_id(msg.message_id), status="delivered")
        email_channel = channel.config.get("email_channel_id")
        return SendResult(external_id=external_id(msg.message_id), status="sent",
                          also_deliver_via_channel_id=str(email_channel) if email_channel
                          else None)

    async def on_channel_deleted(self, channel: Channel) -> None:
        # The widget reconnects on its own and then learns the channel is gone (4404).
        await self.runtime.live.close_channel(channel.id, 1012, "channel deleted")
        if self.runtime.gateway is not None:
            await self.runtime.gateway.deliver_live(
                CLOSE, channel.id, {"code": 1012, "reason": "channel deleted"})

    async def agent_typing(self, channel: Channel, recipient: Recipient) -> None:
        await self._push(channel.id, recipient.external_user_id,
                         {"type": "typing", "active": True})
