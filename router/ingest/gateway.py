"""The core side of the connector contract: durable, batched acceptance of raw events.

Group commit: concurrent webhook requests are written together in one transaction, and each
request is answered only after that transaction committed — "acknowledged means stored" holds,
while the database sees one fsync per batch instead of one per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Executable, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import (
    Channel,
    HistoryItem,
    LiveHandler,
    RateLimitName,
    StoredUpload,
    UploadGone,
)
from connectors.fetch import FetchPolicy, GuardedFetcher
from router.channels.health import ReceiverHealth
from router.channels.service import ChannelCache, to_channel
from router.core import Core
from router.crypto import derive_key
from router.db import database_unavailable
from router.errors import NotFound, ServiceUnavailable
from router.logs import request_id
from router.metrics import Metrics
from router.models import ChannelRow, ConnectorState, InboundEvent, Message
from router.models.base import utcnow
from router.relay import make_relay
from router.uploads import repository as uploads

log = logging.getLogger("omniroute.ingest")
MAX_BATCH = 500


@dataclass
class _Pending:
    rows: list[dict[str, object]]
    state: tuple[str, str, str] | None
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class CoreGateway:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.cache = ChannelCache()
        self.health = ReceiverHealth(core)
        self.relay = make_relay(core.settings.redis_url, core.settings.redis_stream)
        self.fetcher = GuardedFetcher(FetchPolicy.parse(core.settings.fetch_allow_hosts),
                                      max_bytes=core.settings.fetch_max_bytes,
                                      timeout_seconds=core.settings.fetch_timeout_seconds)
        self.upload_limits = uploads.UploadLimits.from_settings(core.settings)
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        # A batch of acknowledgements is waiting for the write slot (SQLite's one writer).
        self._awaiting_slot = False

    async def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name="omniroute-ingest-writer")
        if self.core.settings.run_workers:
            self.relay.on_wake(self.core.inbound_wakeup.set)
        await self.relay.start(lambda: self.core.bus.subscriber_count)

    async def stop(self) -> None:
        await self.relay.stop()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    # -- InboundGateway --------------------------------------------------------------------
    async def channel(self, channel_id: str, channel_type: str) -> Channel:
        channel = self.cache.get(channel_id)
        if channel is None:
            async with self.core.reads() as session:
                row = await session.get(ChannelRow, channel_id)
                if row is None or row.deleted_at is not None:
                    raise NotFound(f"channel {channel_id} does not exist")
                channel = to_channel(self.core, row)
            self.cache.put(channel)
        if channel.type != channel_type:
            raise NotFound(f"channel {channel_id} is not a {channel_type} channel")
        return channel

    async def accept(
        self, channel: Channel, external_event_id: str, payload: bytes, content_type: str
    ) -> None:
        await self._submit(channel, [(external_event_id, payload, content_type)], None)

    async def accept_and_save_state(
        self, channel: Channel, events: list[tuple[str, bytes, str]], key: str, value: str
    ) -> None:
        await self._submit(channel, events, (channel.id, key, value))

    async def load_state(self, channel_id: str, key: str) -> str | None:
        async with self.core.reads() as session:
            row = await session.get(ConnectorState, (channel_id, key))
            return row.value if row else None

    async def save_state(self, channel_id: str, key: str, value: str) -> None:
        async with self.core.unit() as session:
            await _upsert_state(session, self.core.sqlite, channel_id, key, value)

    async def history(
        self, channel: Channel, external_user_id: str, before_id: int | None, limit: int
    ) -> list[HistoryItem]:
        from router.customers.identity import find_sender
        from router.customers.visibility import visible_identities

        async with self.core.reads() as session:
            found = await find_sender(session, channel, self.core.connector(channel.type),
                                      external_user_id)
            if found is None:
                return []
            identity, customer, thread = found
            visible = await visible_identities(session, identity, customer.id)
            query = select(Message).where(Message.thread_id == thread.id,
                                          Message.direction != "note",
                                          Message.identity_id.in_(visible))
            if before_id is not None:
                query = query.where(Message.id < before_id)
            rows = list(await session.scalars(
                query.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit)))
        rows.reverse()
        return [
            HistoryItem(id=r.id, direction="inbound" if r.direction == "inbound" else "outbound",
                        text=r.text, sent_at=r.sent_at, status=r.status, channel_id=r.channel_id,
                        attachments=tuple(r.attachments or ()))
            for r in rows
        ]

    async def store_upload(self, channel: Channel, owner: str, data: bytes, mime_type: str,
                           filename: str | None) -> StoredUpload:
        async with self.core.unit() as session:
            return await uploads.store(session, self.upload_limits, channel.id, owner, data,
                                       mime_type, filename, utcnow())

    async def load_upload(self, channel: Channel, upload_id: str) -> StoredUpload | None:
        now = utcnow()
        async with self.core.reads() as session:
            row = await uploads.find(session, channel.id, upload_id)
            found = uploads.to_stored(row) if row is not None else None
        if found is None or found.expires_at > now:
            return found
        async with self.core.unit() as session:
            await uploads.sweep(session, now)
        raise UploadGone(f"upload {upload_id} expired on {found.expires_at:%Y-%m-%d}")
    async def rate_limit(self, limit: RateLimitName, key: str) -> float:
        return await self.core.throttle.wait(limit, key)

    def signing_key(self, purpose: str) -> bytes:
        return derive_key(self.core.secret_key, "connector:" + purpose)

    def agents_online(self) -> bool:
        return self.core.bus.subscriber_count > 0 or self.relay.agents_elsewhere()

    def on_live(self, kind: str, handler: LiveHandler) -> None:
        self.relay.on_live(kind, handler)

    async def deliver_live(self, kind: str, key: str, frame: dict[str, Any]) -> int:
        return await self.relay.deliver(kind, key, frame)

    async def report_health(
        self, channel_id: str, healthy: bool, reason: str | None = None
    ) -> None:
        await self.health.report(channel_id, healthy, reason)

    async def customer_typing(self, channel: Channel, external_user_id: str) -> None:
        from router.threads.presence import customer_typing

        await customer_typing(self.core, channel, external_user_id)

    def wake_inbound(self) -> None:
        """Raw events wait: wake this replica's inbound workers, or, on a replica that runs
        none, the other replicas' (router/relay.py)."""
        if self.core.settings.run_workers:
            self.core.inbound_wakeup.set()
        else:
            self.relay.wake_workers()
            if self.core.wake_elsewhere is not None:
                self.core.wake_elsewhere("inbound")

    # -- group commit ----------------------------------------------------------------------
    def acks_waiting(self) -> bool:
        """Webhook requests wait to be stored: long write transactions should make way."""
        return self._awaiting_slot or not self._queue.empty()

    async def _submit(
        self, channel: Channel, events: list[tuple[str, bytes, str]],
        state: tuple[str, str, str] | None,
    ) -> None:
        now = utcnow()
        rid = request_id.get()
        rows: list[dict[str, object]] = [
            {"channel_id": channel.id, "external_event_id": ext[:500], "payload": payload,
             "content_type": ctype[:200], "state": "received", "attempts": 0,
             "received_at": now, "request_id": rid}
            for ext, payload, ctype in events
        ]
        pending = _Pending(rows, state)
        if self._writer is None or self._writer.done():
            raise RuntimeError("the ingest writer is not running")
        await self._queue.put(pending)
        await pending.done
        self.core.metrics.inbound_accepted.labels(channel.type).inc(len(rows))
        self.wake_inbound()

    async def _write_loop(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except asyncio.CancelledError:
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(RuntimeError("ingest writer stopped"))
                raise
            except Exception as exc:
                error = _answerable(exc, len(batch), self.core.metrics)
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(error)
            else:
                for item in batch:
                    if not item.done.done():
                        item.done.set_result(None)

    async def _write(self, batch: list[_Pending]) -> None:
        rows = [row for item in batch for row in item.rows]
        self._awaiting_slot = True
        try:
            async with self.core.write_slot():
                self._awaiting_slot = False
                await self._insert(batch, rows)
        finally:
            self._awaiting_slot = False

    async def _insert(self, batch: list[_Pending], rows: list[dict[str, object]]) -> None:
        async with self.core.sessions() as session:
            if rows:
                await session.execute(_insert_events(self.core.sqlite), rows)
            for item in batch:
                if item.state is not None:
                    await _upsert_state(session, self.core.sqlite, *item.state)
            await session.commit()


def _answerable(exc: Exception, events: int, metrics: Metrics) -> Exception:
    """What the waiting webhook requests raise: 503 when the database is away (the provider
    retries; nothing was acknowledged), else the error itself (a 500, logged)."""
    if database_unavailable(exc):
        metrics.inbound_unavailable.inc(events)
        log.warning("storing %d raw events failed: the database is unavailable (%s)", events,
                    type(exc).__name__)
        return ServiceUnavailable("the database is unavailable; nothing was stored, retry")
    log.exception("storing %d raw events failed", events)
    return exc


@functools.cache
def _insert_events(is_sqlite: bool) -> Executable:
    """Built once: statement construction is a good part of a small write's CPU."""
    if is_sqlite:
        return sqlite.insert(InboundEvent).on_conflict_do_nothing(
            index_elements=["channel_id", "external_event_id"])
    return postgresql.insert(InboundEvent).on_conflict_do_nothing(
        index_elements=["channel_id", "external_event_id"])


async def _upsert_state(
    session: AsyncSession, is_sqlite: bool, channel_id: str, key: str, value: str
) -> None:
    dialect = sqlite if is_sqlite else postgresql
    stmt = dialect.insert(ConnectorState).values(channel_id=channel_id, key=key, value=value)
    stmt = stmt.on_conflict_do_update(index_elements=["channel_id", "key"],
                                      set_={"value": value})
    await session.execute(stmt)


