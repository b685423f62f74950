"""The outbox worker: delivers queued replies through connectors, reliably and in order.

A row is claimed by pushing its next_attempt_at out by a lease, so another replica (or this
one after a crash) retries it only once the lease ran out. Only the oldest pending row of a
thread is ever due, which keeps replies to one customer in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from connectors.base import (
    DeliveryError,
    OutboundAttachment,
    OutboundMessage,
    Recipient,
    ReplyButton,
    SendResult,
)
from router.channels.service import mark_health, to_channel
from router.core import Core, queue_event, wake_outbox
from router.ingest.apply import set_status
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
from router.outbox.pacing import Pacer
from router.outbox.routing import channel_chain, identity_for_channel, recipient_id
from router.outbox.service import add_system_note
from router.threads.tokens import thread_token
from router.threads.views import message_view

log = logging.getLogger("omniroute.outbox")
LEASE_SLACK_SECONDS = 30.0


class OutboxWorker:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.pacer = Pacer()
        self.slots = asyncio.Semaphore(core.settings.outbox_concurrency)
        self.in_flight: set[asyncio.Task[None]] = set()

    async def run(self, poll_seconds: float = 1.0) -> None:
        while True:
            self.core.outbox_wakeup.clear()
            try:
                claimed = await self.claim()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming outbox rows failed")
                claimed = []
            for item_id in claimed:
                await self.slots.acquire()
                task = asyncio.create_task(self._deliver_guarded(item_id))
                self.in_flight.add(task)
                task.add_done_callback(self.in_flight.discard)
            if claimed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.core.outbox_wakeup.wait(),
                                       await self._sleep_hint(poll_seconds))

    async def stop(self) -> None:
        for task in list(self.in_flight):
            task.cancel()
        for task in list(self.in_flight):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sleep_hint(self, poll_seconds: float) -> float:
        async with self.core.reads() as session:
            soonest = await session.scalar(
                select(func.min(OutboxItem.next_attempt_at)).where(OutboxItem.state == "pending"))
        if soonest is None:
            return poll_seconds
        return max(0.01, min(poll_seconds, (soonest - utcnow()).total_seconds()))

    async def claim(self, limit: int = 100) -> list[int]:
        earlier = aliased(OutboxItem)
        now = utcnow()
        async with self.core.unit() as session:
            query = (
                select(OutboxItem)
                .where(OutboxItem.state == "pending", OutboxItem.next_attempt_at <= now,
                       ~exists().where(and_(earlier.thread_id == OutboxItem.thread_id,
                                            earlier.state == "pending",
                                            earlier.id < OutboxItem.id)))
                .order_by(OutboxItem.id).limit(limit)
            )
            if not self.core.sqlite:
                query = query.with_for_update(skip_locked=True, of=OutboxItem)
            rows = list(await session.scalars(query))
            lease = timedelta(seconds=self.core.settings.send_timeout_seconds + LEASE_SLACK_SECONDS)
            for row in rows:
                row.next_attempt_at = now + lease
            return [row.id for row in rows]

    async def _deliver_guarded(self, item_id: int) -> None:
        try:
            await self.deliver(item_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering outbox row %s failed unexpectedly", item_id)
        finally:
            self.slots.release()

    async def _prepare(self, item_id: int) -> tuple[OutboxItem, ChannelRow, OutboundMessage] | None:
        async with self.core.reads() as session:
            item = await session.get(OutboxItem, item_id)
            if item is None or item.state != "pending":
                return None
            message = await session.get(Message, item.message_id)
            channel = await session.get(ChannelRow, item.channel_id)
            assert message is not None
            identity = (await session.get(Identity, message.identity_id)
                        if message.identity_id else None)
            if channel is None or identity is None:
                return None
            last_inbound = await session.scalar(
                select(Message).where(Message.thread_id == message.thread_id,
                                      Message.channel_id == channel.id,
                                      Message.direction == "inbound")
                .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1))
            history = list(await session.scalars(
                select(Message.external_id).where(
                    Message.thread_id == message.thread_id, Message.channel_id == channel.id,
                    Message.external_id.is_not(None), Message.id != message.id)
                .order_by(Message.sent_at.desc(), Message.id.desc()).limit(20)))
            quoted = None
            if message.reply_to_message_id:
                target = await session.get(Message, message.reply_to_message_id)
                if target is not None and target.channel_id == channel.id:
                    quoted = target.external_id
            meta = message.meta or {}
            outbound = OutboundMessage(
                message_id=message.id, thread_id=message.thread_id,
                recipient=Recipient(recipient_id(identity, channel.id), identity.name),
                text=message.text,
                attachments=tuple(OutboundAttachment(url=a["url"], mime_type=a.get("mime_type"),
                                                     filename=a.get("filename"))
                                  for a in message.attachments or [] if a.get("url")),
                reply_to_external_id=quoted,
                last_inbound_external_id=last_inbound.external_id if last_inbound else None,
                last_inbound_meta=(last_inbound.meta or {}) if last_inbound else {},
                history_external_ids=tuple(reversed([h for h in history if h])),
                template=meta.get("template"),
                buttons=tuple(ReplyButton(b["id"], b["title"]) for b in meta.get("buttons", [])),
                request_contact=bool(meta.get("request_contact")),
                automatic=message.automatic,
                thread_token=thread_token(self.core.secret_key, message.thread_id),
            )
            return item, channel, outbound

    async def deliver(self, item_id: int) -> None:
        prepared = await self._prepare(item_id)
        if prepared is None:
            return
        _item, channel_row, outbound = prepared
        connector = self.core.connector(channel_row.type)
        channel = to_channel(self.core, channel_row)
        limits = connector.limits
        await self.pacer.wait(f"{channel.id}", limits.per_channel_per_second)
        await self.pacer.wait(f"{channel.id}:{outbound.recipient.external_user_id}",
                              limits.per_chat_per_second)
        try:
            result = await asyncio.wait_for(connector.send(channel, outbound),
                                            self.core.settings.send_timeout_seconds)
        except DeliveryError as exc:
            await self._failed(item_id, channel_row, exc)
            return
        except TimeoutError:
            await self._failed(item_id, channel_row,
                               DeliveryError("the provider did not answer in time", retryable=True))
            return
        except Exception as exc:
            await self._failed(item_id, channel_row,
                               DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True))
            return
        await self._sent(item_id, channel_row, result)

    async def _sent(self, item_id: int, channel: ChannelRow, result: SendResult) -> None:
        async with self.core.unit() as session:
            item = await session.get(OutboxItem, item_id)
            assert item is not None
            message = await session.get(Message, item.message_id)
            assert message is not None
            item.state = "done"
            item.attempts += 1
            item.last_error = None
            message.external_id = result.external_id
            message.error = None
            for extra in result.extra_external_ids:
                session.add(MessageAlias(channel_id=channel.id, external_id=extra,
                                         message_id=message.id))
            set_status(session, message, result.status, None)
            for ext in (result.external_id, *result.extra_external_ids):
                if ext is None:
                    continue
                early = await session.get(EarlyStatus, (channel.id, ext))
                if early is not None:
                    set_status(session, message, early.status, early.error)
                    await session.delete(early)
            if result.also_deliver_via_channel_id:
                await self._copy_via(session, message, result.also_deliver_via_channel_id)
            self.core.metrics.outbox_sent.labels(channel.type).inc()

    async def _copy_via(self, session: AsyncSession, message: Message, channel_id: str) -> None:
        """The web-chat visitor was away: send the same reply through the e-mail channel."""
        row = await session.get(ChannelRow, channel_id)
        thread = await session.get(Thread, message.thread_id)
        if row is None or row.deleted_at is not None or thread is None:
            return
        identity = await identity_for_channel(self.core, session, thread.customer_id, row)
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

    async def _failed(self, item_id: int, channel: ChannelRow, exc: DeliveryError) -> None:
        settings = self.core.settings
        async with self.core.unit() as session:
            item = await session.get(OutboxItem, item_id)
            assert item is not None
            message = await session.get(Message, item.message_id)
            assert message is not None
            item.attempts += 1
            item.last_error = exc.reason[:4000]
            permanent = not exc.retryable or item.attempts >= settings.outbox_max_attempts
            self.core.metrics.outbox_failures.labels(channel.type, str(permanent).lower()).inc()
            if not permanent:
                delay = exc.retry_after if exc.retry_after is not None else min(
                    settings.outbox_backoff_max_seconds,
                    settings.outbox_backoff_base_seconds * 2 ** (item.attempts - 1))
                item.next_attempt_at = utcnow() + timedelta(
                    seconds=delay * (1.0 + random.uniform(0, 0.25)))
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
                chain = await channel_chain(self.core, session, thread.customer_id, tried)
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
            message.status = "failed"
            message.error = exc.reason[:4000]
            queue_event(session, "message.status", {
                "message_id": message.id, "thread_id": message.thread_id, "status": "failed",
                "error": message.error, "external_id": message.external_id,
            })
