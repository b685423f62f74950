"""Attachments streamed from the provider, and the raw original of a message."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from connectors.base import Attachment, AttachmentGone, AttachmentStream, DeliveryError
from connectors.downloads import download_headers
from connectors.fetch import FetchRefused
from router.access.scope import visible_message
from router.auth.deps import AgentDep, CoreDep, ReadDep
from router.channels.service import to_channel
from router.errors import Gone, NotFound, ProviderUnavailable, UnsafeSource
from router.ids import IdPath, valid_id
from router.models import ChannelRow, InboundEvent
from router.openapi_docs import problems

log = logging.getLogger("omniroute.attachments")
router = APIRouter(tags=["messages"])


@router.get("/v1/attachments/{attachment_id}", summary="Download an attachment",
            response_class=StreamingResponse, responses=problems(401, 403, 404, 410, 502))
async def attachment(
    attachment_id: str, core: CoreDep, session: ReadDep, principal: AgentDep
) -> StreamingResponse:
    """Streams the file from the provider (Telegram getFile, WhatsApp media), cuts it from the
    stored original (e-mail) or reads our own store (web chat); only plain images inline."""
    message_part, _sep, index_part = attachment_id.partition("-")
    message_id = valid_id(message_part)
    if message_id is None or not index_part.isdigit() or len(index_part) > 4:
        raise NotFound(f"attachment {attachment_id} does not exist")
    message = await visible_message(session, principal, message_id)
    index = int(index_part)
    if message is None or index >= len(message.attachments or []) or message.channel_id is None:
        raise NotFound(f"attachment {attachment_id} does not exist")
    row = await session.get(ChannelRow, message.channel_id)
    if row is None or row.type not in core.connectors:
        raise NotFound(f"attachment {attachment_id} has no channel to fetch it from")
    data = dict(message.attachments[index])
    known = {k: data.get(k) for k in ("kind", "mime_type", "filename", "size", "url",
                                       "provider_ref")}
    meta = data.get("meta") or {}
    item = Attachment(kind=known["kind"] or "file", mime_type=known["mime_type"],
                      filename=known["filename"], size=known["size"], url=known["url"],
                      provider_ref=known["provider_ref"], meta=meta)
    connector = core.connector(row.type)
    original = None
    if connector.attachments_in_original and message.raw_event_id is not None:
        event = await session.get(InboundEvent, message.raw_event_id)
        original = event.payload if event is not None else None
    try:
        if original is not None:
            stream = await connector.open_attachment_in(to_channel(core, row), item, original)
        else:
            stream = await connector.open_attachment(to_channel(core, row), item)
    except FetchRefused as exc:
        raise UnsafeSource(f"the attachment's file is not fetched: {exc.reason}") from None
    except AttachmentGone as exc:
        raise Gone(f"attachment {attachment_id} is no longer kept: {exc.reason}") from None
    except DeliveryError as exc:
        raise ProviderUnavailable(
            f"the provider would not hand out the file: {exc.reason}"
        ) from None
    try:
        media_type, headers = download_headers(stream.mime_type, stream.filename)
        if stream.size is not None:
            headers["Content-Length"] = str(stream.size)
        return ClosingStreamingResponse(stream, media_type=media_type, headers=headers)
    except BaseException:
        await stream.aclose()
        raise


class ClosingStreamingResponse(StreamingResponse):
    """Closes the attachment's source however the response ends, even when the agent went
    away before the first chunk (a never-started generator would not clean up itself)."""

    def __init__(self, stream: AttachmentStream, media_type: str,
                 headers: dict[str, str]) -> None:
        super().__init__(_logged(stream), media_type=media_type, headers=headers)
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.stream.aclose()


async def _logged(stream: AttachmentStream) -> AsyncIterator[bytes]:
    """The chunks; a source failing half-way is one log line (its URL and body stay out)."""
    try:
        async for chunk in stream.chunks:
            yield chunk
    except DeliveryError as exc:
        log.warning("attachment download broke off: %s", exc.reason)
        raise


@router.get("/v1/messages/{message_id}/raw", summary="The raw original of an inbound message",
            response_class=Response, responses=problems(401, 404))
async def raw(message_id: IdPath, session: ReadDep, principal: AgentDep) -> Response:
    """Exactly what the provider sent (the full e-mail with its quoted history, the JSON update)."""
    message = await visible_message(session, principal, message_id)
    if message is None or message.raw_event_id is None:
        raise NotFound(f"message {message_id} has no stored original")
    event = await session.get(InboundEvent, message.raw_event_id)
    if event is None:
        raise NotFound(f"message {message_id} has no stored original")
    return Response(content=event.payload, media_type=event.content_type)
