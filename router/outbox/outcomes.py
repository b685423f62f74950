"""Writing what the providers answered: sent rows in bulk, failures one by one.

Everything here runs inside the worker's one write transaction per cycle.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import DeliveryError, SendResult
from router.channels.service import mark_health
from router.core import Core, queue_event, wake_outbox
from router.ingest.apply import set_status
from router.logs import request_id
from router.models import (
    ChannelRow,
    EarlyStatus,
    Identity,
    Message,
    MessageAlias,
    OutboxItem,
    Thread,
)
from router.models.base import utcnow
from router.outbox.health import deliveries_failing, deliveries_recovered
from router.outbox.reply_channel import channel_chain, identity_for_channel
from router.outbox.service import add_system_note
from router.threads.views import message_view

log = logging.getLogger("omniroute.outbox")


@dataclass(frozen=True)
class Outcome:
    """How one send ended: a result, or the error to retry or fail with."""

    item_id: int
    message_id: int
    channel: ChannelRow
    result: SendResult | None = None
    error: DeliveryError | None = None


async def record(core: Core, session: AsyncSession, outcomes: list[Outcome]) -> None:
    sent = [o for o in outcomes if o.result is not None]
    if sent:
        await _sent(core, session, sent)
    try:
        for outcome in outcomes:
            if outcome.error is not None:
                await _failed(core, session, outcome, outcome.error)
    finally:
        request_id.set(None)


async def _sent(core: Core, session: AsyncSession, outcomes: list[Outcome]) -> None:
    now = utcnow()
    await session.execute(
        update(OutboxItem).where(OutboxItem.id.in_([o.item_id for o in outcomes]))
        .values(state="done", attempts=OutboxItem.attempts + 1, last_error=None, updated_at=now)
        .execution_options(synchronize_session=False))
    messages = {m.id: m for m in await session.scalars(
        select(Message).where(Message.id.in_([o.message_id for o in outcomes])))}
    early = await _early_statuses(session, outcomes)
    for outcome in outcomes:
        result, channel = outcome.result, outcome.channel
        assert result is not None
        message = messages[outcome.message_id]
        message.external_id = result.external_id
        message.error = None
        for extra in result.extra_external_ids:
            session.add(MessageAlias(channel_id=channel.id, external_id=extra,
                                     message_id=message.id))
        set_status(session, message, result.status, None)
        for ext in (result.external_id, *result.extra_external_ids):
            status = early.get((channel.id, ext)) if ext is not None else None
            if status is not None:
                set_status(session, message, status.status, status.error)
                await session.delete(status)
        if result.also_deliver_via_channel_id:
            await _copy_via(core, session, message, result.also_deliver_via_channel_id)
        core.metrics.outbox_sent.labels(channel.type).inc()
        core.metrics.delivery(channel.type, "sent")
    await deliveries_recovered(session, {outcome.channel.id for outcome in outcomes})


async def _early_statuses(
    session: AsyncSession, outcomes: list[Outcome]
) -> dict[tuple[str, str], EarlyStatus]:
    """Statuses that arrived before the sends returned our ids (the webhook was faster)."""
    ids = {ext for o in outcomes if o.result is not None
           for ext in (o.result.external_id, *o.result.extra_external_ids) if ext is not None}
    if not ids:
        return {}
    rows = await session.scalars(select(EarlyStatus).where(
        EarlyStatus.channel_id.in_({o.channel.id for o in outcomes}),
        EarlyStatus.external_id.in_(ids)))
    return {(row.channel_id, row.external_id): row for row in rows}


async def _copy_via(core: Core, session: AsyncSession, message: Message, channel_id: str) -> None:
    """The web-chat visitor was away: send the same reply through the e-mail channel."""
    row = await session.get(ChannelRow, channel_id)
    thread = await session.get(Thread, message.thread_id)
    if row is None or row.deleted_at is not None or thread is None:
        return
    identity = await identity_for_channel(core, session, thread.customer_id, row)
    if identity is None:
        return
    now = utcnow()
    copy = Message(thread_id=thread.id, direction="outbound", channel_id=row.id,
                   identity_id=identity.id, text=message.text,
                   attachments=message.attachments, meta={"copy_of": message.id},
                   sent_at=now, created_at=now, status="queued", author=message.author,
                   edits=[])
    session.add(copy)
    await session.flush()
    session.add(OutboxItem(message_id=copy.id, thread_id=thread.id, channel_id=row.id,
                           next_attempt_at=now, tried_channels=""))
    await session.flush()
    queue_event(session, "message.created", message_view(copy))
    wake_outbox(session)


async def _failed(core: Core, session: AsyncSession, outcome: Outcome, exc: DeliveryError) -> None:
    settings, channel = core.settings, outcome.channel
    item = await session.get(OutboxItem, outcome.item_id)
    assert item is not None
    request_id.set(item.request_id)  # the lines about this reply name the request that queued it
    message = await session.get(Message, item.message_id)
    assert message is not None
    item.attempts += 1
    item.last_error = exc.reason[:4000]
    permanent = not exc.retryable or item.attempts >= settings.outbox_max_attempts
    core.metrics.outbox_failures.labels(channel.type, str(permanent).lower()).inc()
    if not permanent:
        core.metrics.delivery(channel.type, "retry")
        if item.attempts >= settings.outbox_unhealthy_after_attempts:
            await deliveries_failing(session, channel.id, exc.reason)
        delay = exc.retry_after if exc.retry_after is not None else min(
            settings.outbox_backoff_max_seconds,
            settings.outbox_backoff_base_seconds * 2 ** (item.attempts - 1))
        wait = delay * (1.0 + random.uniform(0, 0.25))
        item.next_attempt_at = utcnow() + timedelta(seconds=wait)
        # Ids and counts only: a provider's reason may quote the message (it is kept on the
        # row, GET /v1/threads/{id}/messages shows it).
        log.info("reply %s on channel %s failed (attempt %d of %d); retrying in %.1f s",
                 item.message_id, channel.id, item.attempts, settings.outbox_max_attempts, wait)
        return
    if exc.recipient_unreachable and message.identity_id:
        identity = await session.get(Identity, message.identity_id)
        if identity is not None:
            identity.reachable = False
    if exc.channel_unhealthy:
        await mark_health(session, channel.id, False, exc.reason)
    thread = await session.get(Thread, item.thread_id)
    assert thread is not None
    if item.auto_channel and (exc.window_closed or exc.recipient_unreachable):
        tried = set(filter(None, item.tried_channels.split(","))) | {channel.id}
        chain = await channel_chain(core, session, thread.customer_id, tried)
        if chain:
            row, identity = chain[0]
            await add_system_note(
                session, thread,
                f"Delivery via {channel.name} ({channel.type}) failed: {exc.reason}. "
                f"Sending via {row.name} ({row.type}) instead.")
            item.tried_channels = ",".join(sorted(tried))
            item.channel_id = row.id
            item.attempts = 0
            item.next_attempt_at = utcnow()
            message.channel_id = row.id
            message.identity_id = identity.id
            wake_outbox(session)
            return
    item.state = "dead"
    log.warning("reply %s on channel %s given up after %d attempts (dead letter)",
                item.message_id, channel.id, item.attempts)
    core.metrics.delivery(channel.type, "dead")
    core.metrics.dead_letters.labels(channel.type).inc()
    message.status = "failed"
    message.error = exc.reason[:4000]
    queue_event(session, "message.status", {
        "message_id": message.id, "thread_id": message.thread_id, "status": "failed",
        "error": message.error, "external_id": message.external_id,
    })
