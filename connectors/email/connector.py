"""The e-mail channel: SMTP out, IMAP and raw-MIME in, acknowledgements, attachment access."""

from __future__ import annotations

import base64
import binascii
import builtins
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import ClassVar
from urllib.parse import unquote_to_bytes

from fastapi import APIRouter

from connectors.base import (
    Acknowledgement,
    Attachment,
    AttachmentStream,
    BaseConnector,
    Channel,
    ChannelLimits,
    DeliveryError,
    IdentityKind,
    InboundItem,
    InboundMessage,
    OutboundAttachment,
    OutboundMessage,
    RawEvent,
    ReceiverFactory,
    SendResult,
)
from connectors.email.mime import attachment_bytes
from connectors.email.outbound import compose, our_message_id
from connectors.email.parse import parse_event
from connectors.email.schemas import EmailChannelConfig
from connectors.email.webhook import build_router
from connectors.fetch import FetchTooLarge

# What one outgoing mail may carry in attachments; most receiving servers refuse past ~25 MB.
MAX_OUTBOUND_ATTACHMENT_BYTES = 20 * 1024 * 1024


def decode_data_url(url: str) -> tuple[str, bytes]:
    """(mime type, bytes) of a `data:` URL; ValueError when it is not one we can read."""
    head, comma, body = url.partition(",")
    if not head.startswith("data:") or not comma:
        raise ValueError("not a data: URL")
    mime_type, _, encoding = head[5:].partition(";")
    try:
        data = (base64.b64decode(body, validate=True) if encoding == "base64"
                else unquote_to_bytes(body))
    except binascii.Error as exc:
        raise ValueError(f"broken base64 in data: URL: {exc}") from None
    return mime_type or "application/octet-stream", data


class EmailConnector(BaseConnector):
    type: ClassVar[str] = "email"
    attachments_in_original: ClassVar[bool] = True
    # Mail has no hard text limit; this keeps one reply within what mail clients render well.
    # Pacing: typical submission servers (Gmail, SES, Office 365) allow a few mails a second
    # per account; revisit when a provider's quota is known.
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        max_text_length=200_000, supports_media=True, per_channel_per_second=5.0)
    identity_kind: ClassVar[IdentityKind] = "email"
    identity_per_channel: ClassVar[bool] = False
    config_model: ClassVar[builtins.type[EmailChannelConfig]] = EmailChannelConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"inbound_secret", "imap_password", "smtp_password"})
    generated_secrets: ClassVar[frozenset[str]] = frozenset({"inbound_secret"})

    def routes(self) -> APIRouter:
        return build_router()

    def parse(self, raw: RawEvent) -> list[InboundItem]:
        return parse_event(raw)

    def receiver(self, channel: Channel) -> ReceiverFactory | None:
        if not channel.config.get("imap"):
            return None
        # aioimaplib and aiosmtplib (~1 MB) load only for channels that use them.
        from connectors.email.imap import build_receiver

        return build_receiver()

    def acknowledgement(self, channel: Channel, message: InboundMessage) -> Acknowledgement | None:
        template = str(channel.config.get("ack_template") or "")
        if message.automatic or not template.strip():
            return None
        response_time = str(channel.config.get("ack_response_time") or "")
        minutes = int(channel.config.get("ack_interval_minutes", 24 * 60))
        # The core fills both from the case's SLA (router/sla/ack.py) when it has one; this
        # is the text for a case without a first-response target.
        return Acknowledgement(text=template.format(response_time=response_time,
                                                    due=response_time),
                               min_interval=timedelta(minutes=minutes))

    async def send(self, channel: Channel, msg: OutboundMessage) -> SendResult:
        config = channel.config
        address = str(config["address"])
        files: list[tuple[str, str, bytes]] = []
        for attachment in msg.attachments:
            budget = MAX_OUTBOUND_ATTACHMENT_BYTES - sum(len(d) for _n, _m, d in files)
            files.append(await self._fetch(attachment, budget))
        message = compose(msg, channel_id=channel.id, address=address,
                          display_name=str(config.get("display_name") or ""), files=files)
        from connectors.email.smtp import deliver

        await deliver(message, config)
        return SendResult(external_id=our_message_id(channel.id, msg.message_id,
                                                     address.rpartition("@")[2]))

    async def _fetch(self, attachment: OutboundAttachment,
                     budget: int) -> tuple[str, str, bytes]:
        """One attachment's bytes, counted against what is left of the mail's budget."""
        filename = attachment.filename or attachment.url.rstrip("/").rpartition("/")[2] or "file"
        too_large = DeliveryError(
            f"attachments exceed {MAX_OUTBOUND_ATTACHMENT_BYTES} bytes, more than mail "
            "servers accept in one message", retryable=False)
        if attachment.url.startswith("data:"):
            try:
                mime_type, data = decode_data_url(attachment.url)
            except ValueError as exc:
                raise DeliveryError(f"attachment {filename!r}: {exc}", retryable=False) from None
            if len(data) > budget:
                raise too_large
            return filename, attachment.mime_type or mime_type, data
        try:
            mime_type, data = await self.fetcher.read(attachment.url, max_bytes=budget)
        except FetchTooLarge:
            raise too_large from None
        except DeliveryError as exc:
            exc.reason = f"attachment {filename!r} could not be fetched: {exc.reason}"
            raise
        return filename, attachment.mime_type or mime_type, data

    async def open_attachment_in(
        self, channel: Channel, attachment: Attachment, original: bytes
    ) -> AttachmentStream:
        """Cut from the stored mail by its place among the attachment parts."""
        if attachment.meta.get("omitted") or not attachment.provider_ref:
            return await self.open_attachment(channel, attachment)
        found = attachment_bytes(original, attachment.provider_ref)
        if found is None:
            raise DeliveryError(f"attachment {attachment.provider_ref} is not in the stored mail",
                                retryable=False)
        _part, data = found

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        return AttachmentStream(mime_type=attachment.mime_type or "application/octet-stream",
                                chunks=chunks(), size=len(data), filename=attachment.filename)

    async def open_attachment(self, channel: Channel, attachment: Attachment) -> AttachmentStream:
        """Files of mail stored before they were cut from the original came as data: URLs."""
        if attachment.url and attachment.url.startswith("data:"):
            try:
                mime_type, data = decode_data_url(attachment.url)
            except ValueError as exc:
                raise DeliveryError(str(exc), retryable=False) from None

            async def chunks() -> AsyncIterator[bytes]:
                yield data

            return AttachmentStream(mime_type=attachment.mime_type or mime_type,
                                    chunks=chunks(), size=len(data), filename=attachment.filename)
        if attachment.url is None:
            reason = str(attachment.meta.get("omitted") or "not kept")
            raise DeliveryError(f"this attachment was not kept ({reason}); the full mail is "
                                "at GET /v1/messages/{id}/raw", retryable=False)
        return await super().open_attachment(channel, attachment)

