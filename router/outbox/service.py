"""Replies and notes: the message and its outbox row are written in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import Channel
from router.cases.service import on_agent_reply
from router.core import Core, queue_event, wake_outbox
from router.errors import ReplyWindowClosed, Unprocessable
from router.logs import request_id
from router.models import ChannelRow, Identity, Message, OutboxItem, Thread
from router.models.base import utcnow
from router.outbox.reply_channel import channel_chain, identity_for_channel
from router.threads.views import message_view, thread_view


@dataclass(frozen=True)
class ReplyRequest:
    text: str
    channel_id: str | None = None
    internal: bool = False
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reply_to_message_id: int | None = None
    template: dict[str, Any] | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    request_contact: bool = False


def window_closed(core: Core, channel: ChannelRow, identity: Identity) -> bool:
    window = core.connector(channel.type).limits.reply_window
    if window is None:
        return False
    last = identity.last_inbound_at
    return last is None or utcnow() - last > window


def window_info(core: Core, channel: ChannelRow, identity: Identity) -> dict[str, Any] | None:
    window = core.connector(channel.type).limits.reply_window
    if window is None:
        return None
    last = identity.last_inbound_at
    closes = (last + window) if last else None
    return {"channel_id": channel.id, "open": bool(closes and closes > utcnow()),
            "closes_at": closes.isoformat() if closes else None}


async def _pick_channel(
    core: Core, session: AsyncSession, thread: Thread, req: ReplyRequest,
) -> tuple[ChannelRow, Identity, bool, str | None]:
    """(channel, recipient, automatic choice, note on a fallback)."""
    if req.channel_id is not None:
        row = await session.get(ChannelRow, req.channel_id)
        if row is None or row.deleted_at is not None:
            raise Unprocessable(f"channel {req.channel_id} does not exist",
                                extra={"errors": [{"field": "channel_id", "message": "unknown"}]})
        identity = await identity_for_channel(core, session, thread.customer_id, row)
        if identity is None:
            raise Unprocessable(
                f"the customer has no identity on channel {row.id} ({row.type}); "
                "reply on a channel they use",
                extra={"errors": [{"field": "channel_id", "message": "customer not on channel"}]})
        if req.template is None and window_closed(core, row, identity):
            raise _window_problem(core, row, identity)
        return row, identity, False, None
    chain = await channel_chain(core, session, thread.customer_id, set())
    if thread.last_inbound_channel_id:
        chain.sort(key=lambda pair: pair[0].id != thread.last_inbound_channel_id)
    if not chain:
        raise Unprocessable("the customer has no reachable channel to reply on")
    first_row, first_identity = chain[0]
    for row, identity in chain:
        if req.template is not None and row.type != first_row.type:
            continue
        if req.template is None and window_closed(core, row, identity):
            continue
        note = None
        if row.id != first_row.id:
            note = (f"The reply window on {first_row.name} ({first_row.type}) is closed; "
                    f"this reply goes out via {row.name} ({row.type}).")
        return row, identity, True, note
    raise _window_problem(core, first_row, first_identity)


def _window_problem(core: Core, row: ChannelRow, identity: Identity) -> ReplyWindowClosed:
    info = window_info(core, row, identity) or {}
    return ReplyWindowClosed(
        f"the customer service window on {row.type} channel {row.id} closed at "
        f"{info.get('closes_at')}; send an approved template instead (field 'template')",
        extra={"window": info, "suggestion": "template"})


async def queue_reply(
    core: Core, session: AsyncSession, thread: Thread, req: ReplyRequest, author: str
) -> Message:
    now = utcnow()
    if req.internal:
        note = Message(thread_id=thread.id, direction="note", channel_id=None, text=req.text,
                       attachments=req.attachments, meta={}, sent_at=now, created_at=now,
                       status="received", author=author, edits=[])
        session.add(note)
        thread.last_message_at = now
        await session.flush()
        queue_event(session, "message.created", message_view(note))
        return note
    if not req.text and not req.attachments and req.template is None:
        raise Unprocessable("a reply needs text, attachments or a template",
                            extra={"errors": [{"field": "text", "message": "empty reply"}]})
    row, identity, automatic, fallback_note = await _pick_channel(core, session, thread, req)
    limits = core.connector(row.type).limits
    if req.attachments and not limits.supports_media:
        raise Unprocessable(f"{row.type} channels cannot send attachments")
    if fallback_note:
        await add_system_note(session, thread, fallback_note)
    meta: dict[str, Any] = {}
    if req.template is not None:
        meta["template"] = req.template
    if req.buttons:
        meta["buttons"] = req.buttons
    if req.request_contact:
        meta["request_contact"] = True
    message = Message(thread_id=thread.id, direction="outbound", channel_id=row.id,
                      identity_id=identity.id, text=req.text, attachments=req.attachments,
                      meta=meta, sent_at=now, created_at=now, status="queued", author=author,
                      reply_to_message_id=req.reply_to_message_id, edits=[])
    session.add(message)
    await session.flush()
    session.add(OutboxItem(message_id=message.id, thread_id=thread.id, channel_id=row.id,
                           auto_channel=automatic, tried_channels="", next_attempt_at=now,
                           request_id=request_id.get()))
    if thread.first_response_at is None:
        thread.first_response_at = now
    await on_agent_reply(session, thread)
    thread.last_message_at = now
    thread.updated_at = now
    await session.flush()
    queue_event(session, "message.created", message_view(message))
    queue_event(session, "thread.updated", thread_view(thread))
    wake_outbox(session)
    return message


async def queue_automatic(
    core: Core, session: AsyncSession, thread: Thread, channel: Channel | ChannelRow,
    identity: Identity, text: str, meta: dict[str, Any] | None = None,
) -> Message:
    """An automatic message (acknowledgement, survey) to one of the customer's identities;
    `meta` carries buttons, a template or a survey as a reply's meta does."""
    now = utcnow()
    message = Message(thread_id=thread.id, direction="outbound", channel_id=channel.id,
                      identity_id=identity.id, text=text, attachments=[], meta=meta or {},
                      sent_at=now,
                      created_at=now, status="queued", author="omniroute", automatic=True,
                      edits=[])
    session.add(message)
    await session.flush()
    session.add(OutboxItem(message_id=message.id, thread_id=thread.id, channel_id=channel.id,
                           auto_channel=False, tried_channels="", next_attempt_at=now,
                           request_id=request_id.get()))
    await session.flush()
    queue_event(session, "message.created", message_view(message))
    wake_outbox(session)
    return message


async def add_system_note(session: AsyncSession, thread: Thread, text: str) -> Message:
    """A note the thread shows about what the system did (fallbacks, delivery failures)."""
    now = utcnow() - timedelta(microseconds=1)
    note = Message(thread_id=thread.id, direction="note", channel_id=None, text=text,
                   attachments=[], meta={"system": True}, sent_at=now, created_at=now,
                   status="received", author="omniroute", edits=[])
    session.add(note)
    await session.flush()
    queue_event(session, "message.created", message_view(note))
    return note
