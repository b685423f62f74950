"""The outbox worker: delivers queued replies through connectors, reliably and in order.

A row is claimed by pushing its next_attempt_at out by a lease, so another replica (or this
one after a crash) retries it only once the lease ran out. Only the oldest pending row of a
thread is ever due, which keeps replies to one customer in order: a batch holds at most one
row per thread, and a thread's next row is claimable only once the previous one is done.

The worker works in cycles. Each cycle is one write transaction that records what the
providers answered since the last one, claims the rows that fell due and reads them (a few
queries per batch); after it commits they are sent concurrently, outbox_concurrency at a time,
never two of one thread. Under load a cycle costs one transaction for many replies instead of
two transactions and six reads per reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from connectors.base import Channel, DeliveryError
from router.channels.service import to_channel
from router.core import Core
from router.logs import request_id
from router.models import OutboxItem
from router.models.base import utcnow
from router.outbox.outcomes import Outcome, record
from router.outbox.pacing import Pacer
from router.outbox.prepare import Prepared, prepare_batch

log = logging.getLogger("omniroute.outbox")
# How long a stopping worker lets the sends under way finish before it gives up on them.
STOP_GRACE_SECONDS = 5.0
# After a wake-up, wait this long so a burst of replies (and answers) shares one cycle.
GATHER_SECONDS = 0.01
# Rows claimed and not yet answered, at most; the ones beyond the send slots wait for one.
MAX_BACKLOG = 100


class OutboxWorker:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.pacer = Pacer()
        self.concurrency = core.settings.outbox_concurrency
        self.slots = asyncio.Semaphore(self.concurrency)
        # Rows claimed and not yet answered (waiting for a send slot, or sending).
        self.backlog = 0
        # Rows the last cycle claimed (some may not have been sendable).
        self.last_claimed = 0
        # Answers not yet written; appended by send tasks, written by the next cycle.
        self.outcomes: list[Outcome] = []
        self.in_flight: set[asyncio.Task[None]] = set()
        # The send task of each claimed row.
        self.tasks: dict[int, asyncio.Task[None]] = {}
        # Rows leased by this worker whose answer is not recorded yet (released on stop).
        self.leased: set[int] = set()
        # Rows whose send has begun (a stop lets those finish, the others are released).
        self.sending: set[int] = set()

    async def run(self, poll_seconds: float = 1.0) -> None:
        wakeup = self.core.outbox_wakeup
        while True:
            wakeup.clear()
            free = MAX_BACKLOG - self.backlog
            claimed: list[Prepared] = []
            if self.outcomes or free > 0:
                try:
                    claimed = await self.cycle(free)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("an outbox cycle failed")
            channels = self._open_channels(claimed)
            for row in claimed:
                if row.channel.id in channels:
                    self._spawn(self._send(row, channels[row.channel.id]), row.item_id)
                else:
                    self.backlog -= 1
                    self.leased.discard(row.item_id)
            if free > 0 and self.last_claimed == free:
                continue
            if not wakeup.is_set():
                timeout = (await self._sleep_hint(poll_seconds)
                           if free > self.last_claimed else poll_seconds)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), timeout)
            if wakeup.is_set():
                await asyncio.sleep(GATHER_SECONDS)

    def _open_channels(self, rows: list[Prepared]) -> dict[str, Channel]:
        """Each channel's config, secrets opened once per cycle rather than once per reply."""
        channels: dict[str, Channel] = {}
        for row in rows:
            if row.channel.id in channels:
                continue
            try:
                channels[row.channel.id] = to_channel(self.core, row.channel)
            except Exception:
                log.exception("opening channel %s failed; its rows are retried after their "
                              "lease", row.channel.id)
        return channels

    async def stop(self) -> None:
        """Let the sends under way finish (briefly), record every answer, release the rest.

        A reply that was claimed but never handed to its provider is made due again at once,
        so another replica sends it now rather than after this replica's lease ran out.
        """
        for item_id, task in list(self.tasks.items()):
            if item_id not in self.sending:
                task.cancel()
        if self.in_flight:
            await asyncio.wait(list(self.in_flight), timeout=STOP_GRACE_SECONDS)
        for task in list(self.in_flight):
            task.cancel()
        for task in list(self.in_flight):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.outcomes:
            # Answers already received: record them so a restart does not send them twice.
            with contextlib.suppress(Exception):
                await self.cycle(0)
        recorded = {outcome.item_id for outcome in self.outcomes}
        unsent = sorted(self.leased - recorded)
        if unsent:
            with contextlib.suppress(Exception):
                async with self.core.unit() as session:
                    await session.execute(
                        update(OutboxItem)
                        .where(OutboxItem.id.in_(unsent), OutboxItem.state == "pending")
                        .values(next_attempt_at=utcnow())
                        .execution_options(synchronize_session=False))
                log.info("released %d claimed replies for other replicas", len(unsent))

    async def cycle(self, limit: int) -> list[Prepared]:
        """Record the answers gathered so far, claim up to `limit` due rows and read them."""
        outcomes = self.outcomes[:]
        self.last_claimed = 0
        claimed: list[Prepared] = []
        try:
            async with self.core.unit() as session:
                await record(self.core, session, outcomes)
                await session.flush()
                if limit > 0:
                    ids = await self.claim(session, limit)
                    self.last_claimed = len(ids)
                    # Rows that cannot be sent now keep their lease and are looked at again
                    # after it.
                    claimed = await prepare_batch(self.core, session, ids) if ids else []
        except asyncio.CancelledError:
            raise
        except Exception:
            if not outcomes:
                raise
            # One answer the batch could not take must not cost the others theirs.
            log.exception("recording %s outbox answers together failed", len(outcomes))
            await self._record_one_by_one(outcomes)
            claimed, self.last_claimed = [], 0
        del self.outcomes[:len(outcomes)]
        self.leased.difference_update(outcome.item_id for outcome in outcomes)
        self.leased.update(row.item_id for row in claimed)
        self.backlog += len(claimed)
        return claimed

    async def _record_one_by_one(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            try:
                async with self.core.unit() as session:
                    await record(self.core, session, [outcome])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recording outbox row %s failed; it is retried after its lease",
                              outcome.item_id)

    async def claim(self, session: AsyncSession, limit: int) -> list[int]:
        """Lease up to `limit` due rows, oldest first, at most one per thread."""
        earlier = aliased(OutboxItem)
        now = utcnow()
        due = (
            select(OutboxItem.id)
            .where(OutboxItem.state == "pending", OutboxItem.next_attempt_at <= now,
                   ~exists().where(and_(earlier.thread_id == OutboxItem.thread_id,
                                        earlier.state == "pending",
                                        earlier.id < OutboxItem.id)))
            .order_by(OutboxItem.id).limit(limit)
            # Its own FROM outbox, not the UPDATE's row: pick ids, then lease them.
            .correlate(None)
        )
        if not self.core.sqlite:
            # Another replica's claim skips the rows this one holds (SQLite has one writer).
            due = due.with_for_update(skip_locked=True, of=OutboxItem)
        # A claimed row may wait for a send slot behind the backlog: the lease covers that.
        rounds = 1 + (self.backlog + limit) // self.concurrency
        lease = timedelta(seconds=self.core.settings.send_timeout_seconds * rounds
                          + self.core.settings.outbox_lease_slack_seconds)
        rows = await session.scalars(
            update(OutboxItem).where(OutboxItem.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + lease).returning(OutboxItem.id)
            .execution_options(synchronize_session=False))
        return sorted(rows)

    async def _sleep_hint(self, poll_seconds: float) -> float:
        """Seconds until the next row that could be claimed falls due (at most the poll)."""
        earlier = aliased(OutboxItem)
        try:
            async with self.core.reads() as session:
                soonest = await session.scalar(
                    select(func.min(OutboxItem.next_attempt_at))
                    .where(OutboxItem.state == "pending",
                           ~exists().where(and_(earlier.thread_id == OutboxItem.thread_id,
                                                earlier.state == "pending",
                                                earlier.id < OutboxItem.id))))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reading when the next outbox row falls due failed")
            return poll_seconds
        if soonest is None:
            return poll_seconds
        return max(0.01, min(poll_seconds, (soonest - utcnow()).total_seconds()))

    def _spawn(self, coro: Coroutine[Any, Any, None], item_id: int) -> None:
        task = asyncio.create_task(coro, name=f"omniroute-send-{item_id}")
        self.in_flight.add(task)
        self.tasks[item_id] = task
        task.add_done_callback(self.in_flight.discard)
        task.add_done_callback(lambda _task: self.tasks.pop(item_id, None))

    async def _send(self, row: Prepared, channel: Channel) -> None:
        request_id.set(row.request_id)  # this task's own context: its log lines name it
        outcome: Outcome | None = None
        try:
            async with self.slots:
                self.sending.add(row.item_id)
                outcome = await self._attempt(row, channel)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivering outbox row %s failed unexpectedly", row.item_id)
            self.leased.discard(row.item_id)  # retried after its lease
        finally:
            self.sending.discard(row.item_id)
            self.backlog -= 1
            if outcome is not None:
                self.outcomes.append(outcome)
                self.core.outbox_wakeup.set()


    async def _attempt(self, row: Prepared, channel: Channel) -> Outcome:
        channel_row, outbound = row.channel, row.outbound
        connector = self.core.connector(channel_row.type)
        limits = connector.limits
        await self.pacer.wait(channel.id, limits.per_channel_per_second)
        await self.pacer.wait(f"{channel.id}:{outbound.recipient.external_user_id}",
                              limits.per_chat_per_second)
        done = Outcome(row.item_id, outbound.message_id, channel_row)
        try:
            result = await asyncio.wait_for(connector.send(channel, outbound),
                                            self.core.settings.send_timeout_seconds)
        except DeliveryError as exc:
            return _with_error(done, exc)
        except TimeoutError:
            return _with_error(done, DeliveryError("the provider did not answer in time",
                                                   retryable=True))
        except Exception as exc:
            return _with_error(done, DeliveryError(f"{type(exc).__name__}: {exc}",
                                                   retryable=True))
        return Outcome(done.item_id, done.message_id, channel_row, result=result)


def _with_error(outcome: Outcome, exc: DeliveryError) -> Outcome:
    return Outcome(outcome.item_id, outcome.message_id, outcome.channel, error=exc)
