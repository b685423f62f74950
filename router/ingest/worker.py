"""The inbound worker: turns stored raw events into thread messages, a batch at a time.

A batch is one transaction: its events are parsed first, what they need is looked up once
(router/ingest/batch.py) and their messages are written together. If any event fails, the
transaction is rolled back and the batch redone with one SAVEPOINT per event, so a poison
event fails alone, is kept with its error, and never blocks the others. On PostgreSQL the
claim uses FOR UPDATE SKIP LOCKED, so loops and replicas share the work.

A batch is cut short after `ingest_batch_seconds`: its transaction holds SQLite's one write
lock (webhook acknowledgements wait for it) and its live events are published only when it
commits, so short batches keep both ack and webhook → agent latency low under load. The claim
size follows the measured cost per event, so a cut batch has not loaded much it will not use.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Executable, Table, bindparam, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import Channel, InboundItem, InboundMessage, RawEvent
from router.cases.book import CaseBook, CaseConflict
from router.channels.service import to_channel
from router.core import EVENTS_KEY, Core
from router.ingest.apply import NOTE_LIMIT, Outcome, apply_items
from router.ingest.batch import Batch
from router.ingest.clean import clean_items
from router.logs import request_id
from router.models import ChannelRow, InboundEvent
from router.models.base import utcnow
from router.text import clean_text

log = logging.getLogger("omniroute.ingest")
# A conflict with another replica handling the same customer is retried this many times.
MAX_CONFLICT_RETRIES = 5
# On SQLite a batch holds the one write lock: once it has run this long it makes way for
# acknowledgements waiting on that lock (they wait at most about this long for it).
ACK_GRACE_SECONDS = 0.008


@dataclass
class Pace:
    """How long one event takes to process here, learned as the worker goes (seconds)."""

    per_event: float = 0.005
    # (this loop, loops in this replica): each loop takes the events of its share of channels,
    # so one channel's events are applied in arrival order here (a "bot blocked" update is
    # never applied before the message that introduced the user).
    lane: tuple[int, int] = (0, 1)

    def claim_size(self, core: Core) -> int:
        budget = core.settings.ingest_batch_seconds
        return max(1, min(core.settings.ingest_batch_size, int(budget / self.per_event) + 1))

    def learn(self, seconds: float, handled: int) -> None:
        if handled:
            self.per_event = 0.7 * self.per_event + 0.3 * max(seconds / handled, 1e-5)


class Claimed(Protocol):
    """What processing reads of a claimed raw event: an InboundEvent, or just its columns."""

    @property
    def id(self) -> int: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def external_event_id(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def content_type(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def request_id(self) -> str | None: ...


_CLAIMED_COLUMNS = (InboundEvent.id, InboundEvent.channel_id, InboundEvent.external_event_id,
                    InboundEvent.payload, InboundEvent.content_type, InboundEvent.received_at,
                    InboundEvent.request_id)


@functools.cache
def _claim(sqlite: bool, lanes: bool, columns: bool) -> Executable:
    """The oldest received events, as ORM objects or just their columns (built once:
    building it cost a quarter of a small batch's CPU); on PostgreSQL locked for this loop,
    and only of its share of channels."""
    query = (select(*_CLAIMED_COLUMNS) if columns else select(InboundEvent))
    query = (query.where(InboundEvent.state == "received")
             .order_by(InboundEvent.id).limit(bindparam("limit")))
    if not sqlite:
        query = query.with_for_update(skip_locked=True)
        if lanes:
            query = query.where(func.abs(func.mod(func.hashtext(InboundEvent.channel_id),
                                                  bindparam("lanes"))) == bindparam("lane"))
    return query


# One statement for the batch instead of one UPDATE per event.
_MARK_PROCESSED = (
    update(InboundEvent)
    .where(InboundEvent.id.in_(bindparam("ids", expanding=True)))
    .values(state="processed", attempts=InboundEvent.attempts + 1, error=None,
            processed_at=bindparam("now"))
    .execution_options(synchronize_session=False))
# An event that was ignored on purpose or only partly read: its state and why.
_EVENTS: Table = InboundEvent.__table__  # type: ignore[assignment]
_MARK_OTHERWISE = (  # Core, not ORM: one statement executed for each such event
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("event_id"))
    .values(state=bindparam("new_state"), attempts=_EVENTS.c.attempts + 1,
            error=bindparam("why"), processed_at=bindparam("at")))


class _FastPathFailed(Exception):
    """An event failed while its batch ran without savepoints: redo the batch carefully."""


async def process_batch(core: Core, pace: Pace | None = None) -> int:
    """Process up to one batch of received events; returns how many were handled.

    First without a SAVEPOINT per event (three statements fewer each); if any event fails,
    that transaction is rolled back and the batch is redone with one SAVEPOINT per event, so
    the poison event fails alone and the others go through.
    """
    pace = pace or Pace()
    try:
        return await _process(core, pace, careful=False)
    except _FastPathFailed:
        return await _process(core, pace, careful=True)


async def _process(core: Core, pace: Pace, *, careful: bool) -> int:
    done: list[Claimed] = []
    # Events whose state is not plain `processed` (ignored, partial): (state, why).
    otherwise: dict[int, tuple[str, str | None]] = {}
    async with core.unit() as session:
        index, lanes = pace.lane
        params = {"limit": pace.claim_size(core), "lanes": lanes, "lane": index}
        if careful:
            events = list(await session.scalars(_claim(core.sqlite, lanes > 1, False), params))
            started = time.perf_counter()
            handled = await _one_by_one(core, session, events, done, started, otherwise)
        else:
            # Plain rows: loading ORM objects was a quarter of a batch's CPU, and the fast
            # path only reads them.
            claimed = await session.execute(_claim(core.sqlite, lanes > 1, True), params)
            rows = cast(list[Claimed], claimed.all())
            started = time.perf_counter()
            try:
                handled = await _together(core, session, rows, done, started, otherwise)
            except Exception as exc:
                raise _FastPathFailed from exc
        now = utcnow()
        plain = [event.id for event in done if event.id not in otherwise]
        if plain:
            await session.execute(_MARK_PROCESSED, {"ids": plain, "now": now})
        if otherwise and not careful:
            await session.execute(_MARK_OTHERWISE, [
                {"event_id": event_id, "new_state": state, "why": why, "at": now}
                for event_id, (state, why) in otherwise.items()])
        pace.learn(time.perf_counter() - started, handled)
        request_id.set(None)
    core.metrics.inbound_processed.labels("processed").inc(len(done))
    for event in done:
        core.metrics.ingest_lag.observe(max(0.0, (now - event.received_at).total_seconds()))
    return handled


async def _together(core: Core, session: AsyncSession, events: list[Claimed],
                    done: list[Claimed], started: float,
                    otherwise: dict[int, tuple[str, str | None]]) -> int:
    """The whole batch without savepoints, its lookups and writes shared (any error: raise).

    Every event is parsed first, so one query per batch answers which messages are stored
    and who their senders are (router/ingest/batch.py); the rows are written at one flush.
    """
    # Per batch, not per event: loading a channel decrypts its secrets.
    channels: dict[str, Channel | Exception] = {}
    parsed: list[tuple[Claimed, Channel, list[InboundItem]]] = []
    for event in events:
        if event.channel_id not in channels:
            channels[event.channel_id] = await _channel(core, session, event.channel_id)
        channel = channels[event.channel_id]
        parsed.append((event, _checked(channel), _parse(core, event, _checked(channel))))
    batch = Batch(session, CaseBook(core, session))
    await batch.prefetch(
        (channel, core.connector(channel.type), item)
        for _event, channel, items in parsed for item in items
        if isinstance(item, InboundMessage))
    handled = 0
    budget = core.settings.ingest_batch_seconds
    for event, channel, items in parsed:
        if handled and _cut(core, started, budget):
            break  # the rest stay "received" (and unlocked) for the next batch
        handled += 1
        request_id.set(event.request_id)
        _note(otherwise, event.id,
              await apply_items(core, session, channel, items, event.id, batch))
        done.append(event)
    await batch.flush()
    return handled


async def _one_by_one(core: Core, session: AsyncSession, events: list[InboundEvent],
                      done: list[Claimed], started: float,
                      otherwise: dict[int, tuple[str, str | None]]) -> int:
    """Each event in its own SAVEPOINT: a poison event fails alone, the others go through."""
    channels: dict[str, Channel | Exception] = {}
    handled = 0
    budget = core.settings.ingest_batch_seconds
    for event in events:
        if handled and _cut(core, started, budget):
            break
        handled += 1
        request_id.set(event.request_id)
        if event.channel_id not in channels:
            channels[event.channel_id] = await _channel(core, session, event.channel_id)
        channel = channels[event.channel_id]
        queued = session.info.setdefault(EVENTS_KEY, [])
        mark = len(queued)
        try:
            async with session.begin_nested():
                items = _parse(core, event, _checked(channel))
                outcome = await apply_items(core, session, _checked(channel), items, event.id)
        except Exception as exc:
            del queued[mark:]
            event.attempts += 1
            if not _conflict(exc) or event.attempts >= MAX_CONFLICT_RETRIES:
                _fail(core, event, exc)
            continue
        if _note(otherwise, event.id, outcome):
            event.state, event.error = otherwise[event.id]
            event.attempts += 1
            event.processed_at = utcnow()
        done.append(event)
    return handled


def _note(otherwise: dict[int, tuple[str, str | None]], event_id: int,
          outcome: Outcome) -> bool:
    """Remember an event that ends other than plain `processed`; whether it does."""
    state, why = outcome.state()
    if state == "processed":
        return False
    otherwise[event_id] = (state, why)
    log.info("inbound event %s is %s: %s", event_id, state, why)
    return True


def _conflict(exc: Exception) -> bool:
    """Another worker or replica touched the same rows: try the event again later."""
    if isinstance(exc, IntegrityError | CaseConflict):
        return True
    # PostgreSQL's deadlock_detected and serialization_failure.
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in {
        "40P01", "40001"}


def _cut(core: Core, started: float, budget: float) -> bool:
    """End the batch: its time is up, or (SQLite) acknowledgements wait for the write lock
    and the batch has had its grace (without one, under steady load every batch would be one
    event long and its fixed statements would cap the processing rate)."""
    elapsed = time.perf_counter() - started
    if elapsed > budget:
        return True
    return core.sqlite and elapsed > ACK_GRACE_SECONDS and core.gateway.acks_waiting()


def _checked(channel: Channel | Exception) -> Channel:
    if isinstance(channel, Exception):
        raise channel
    return channel


def _parse(core: Core, event: Claimed, channel: Channel) -> list[InboundItem]:
    """The one place a connector hands items to the core: their text is made clean here."""
    raw = RawEvent(id=event.id, channel_id=event.channel_id,
                   external_event_id=event.external_event_id, payload=event.payload,
                   content_type=event.content_type, received_at=event.received_at,
                   channel_config=channel.config)
    return clean_items(core.connector(channel.type).parse(raw), event.received_at)


async def _channel(core: Core, session: AsyncSession, channel_id: str) -> Channel | Exception:
    """The channel, or why its events cannot be processed (each such event fails with it)."""
    cached = core.gateway.cache.get(channel_id)  # what the webhook that stored it just used
    if cached is not None:
        return cached
    row = await session.get(ChannelRow, channel_id)
    if row is None:
        return LookupError(f"channel {channel_id} no longer exists")
    try:
        return to_channel(core, row)
    except Exception as exc:
        return exc


def _fail(core: Core, event: InboundEvent, exc: BaseException) -> None:
    # The type only: an error's text may quote the payload (the error column keeps it).
    log.warning("inbound event %s (channel %s) failed: %s", event.id, event.channel_id,
                type(exc).__name__)
    event.state = "failed"
    # An exception may quote the bad input it choked on: the error must still be storable.
    event.error = clean_text(f"{type(exc).__name__}: {exc}"[:NOTE_LIMIT])
    event.processed_at = utcnow()
    core.metrics.inbound_processed.labels("failed").inc()


async def backlog(core: Core) -> int:
    async with core.reads() as session:
        count = await session.scalar(
            select(func.count()).select_from(InboundEvent).where(InboundEvent.state == "received"))
    return int(count or 0)


async def run_inbound_worker(core: Core, poll_seconds: float = 1.0) -> None:
    """Forever: process what is waiting, then sleep until woken (or poll for other replicas).

    On PostgreSQL `ingest_concurrency` loops may share the work, each taking its share of the
    channels (so a channel's events stay in order within a replica; between replicas SKIP
    LOCKED shares them); SQLite has one writer, so one loop.
    """
    loops = 1 if core.sqlite else core.settings.ingest_concurrency
    await asyncio.gather(*(_worker_loop(core, poll_seconds, (i, loops)) for i in range(loops)))


async def _worker_loop(core: Core, poll_seconds: float, lane: tuple[int, int]) -> None:
    pace = Pace(lane=lane)
    while True:
        # Cleared before looking, so a wake-up during the batch is never lost.
        core.inbound_wakeup.clear()
        try:
            handled = await process_batch(core, pace)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("inbound batch failed; retrying shortly")
            handled = 0
            await asyncio.sleep(poll_seconds)
        if handled:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(core.inbound_wakeup.wait(), poll_seconds)
