"""Attachments streamed from the provider, and the raw original of a message."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from connectors.base import Attachment, DeliveryError
from router.access.scope import visible_message
from router.auth.deps import AgentDep, CoreDep, ReadDep
from router.channels.service import to_channel
from router.errors import NotFound, ProviderUnavailable
from router.ids import IdPath, valid_id
from router.models import ChannelRow, InboundEvent
from router.openapi_docs import problems

router = APIRouter(tags=["messages"])


@router.get("/v1/attachments/{attachment_id}", summary="Download an attachment",
            response_class=StreamingResponse, responses=problems(401, 404, 502))
async def attachment(
    attachment_id: str, core: CoreDep, session: ReadDep, principal: AgentDep
) -> StreamingResponse:
    """Streams the file from the provider (Telegram getFile, WhatsApp media) or cuts it from the
    stored original (e-mail): either way, no second copy is kept."""
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
    except DeliveryError as exc:
        raise ProviderUnavailable(
            f"the provider would not hand out the file: {exc.reason}"
        ) from None
    headers = {}
    if stream.filename:
        headers["Content-Disposition"] = f'attachment; filename="{stream.filename}"'
    if stream.size is not None:
        headers["Content-Length"] = str(stream.size)
    return StreamingResponse(stream.chunks, media_type=stream.mime_type, headers=headers)


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
