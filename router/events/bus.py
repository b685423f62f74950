"""Live events: typed, ordered, resumable. In-process by default, Redis Streams across replicas.

Events are published after the transaction that caused them committed; a client that
reconnects with Last-Event-ID gets what it missed from the replica's buffer (or the Redis
stream), or a `stream.reset` telling it to reload, never a silent gap.

A replica may hold ten thousand agent streams, so a subscriber is kept small: a list of
pending events and at most one waiting future (no queue object, no task, no timer of its own).
One heartbeat task per replica wakes the idle ones so they can send a keep-alive, and one
reader per replica tails Redis and fans out to all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from router.events.spool import Spool
from router.events.wire import encode

log = logging.getLogger("omniroute.events")

# A proxy or load balancer closes a stream that stays silent for about a minute.
HEARTBEAT_SECONDS = 15.0
# Live events a subscriber may have waiting before it counts as too slow and is dropped (it
# resumes with Last-Event-ID from the replay buffer, so nothing is lost by dropping it).
PENDING_LIMIT = 1000
SLOW_REASON = "client too slow"


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    data: dict[str, Any]
    at: str
    # The JSON body, encoded once however many streams send it.
    _json: bytes | None = field(default=None, compare=False, repr=False)

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "at": self.at, "data": self.data}

    def wire_json(self) -> bytes:
        if self._json is None:
            object.__setattr__(self, "_json",
                               encode(self.wire(), f"event {self.id} ({self.type})"))
        assert self._json is not None
        return self._json


def _reset(reason: str) -> Event:
    return Event(id="", type="stream.reset", data={"reason": reason},
                 at=datetime.now(UTC).isoformat())


class Subscription:
    """One subscriber: replayed events, then live ones, handed out in batches.

    `next()`, or (saving a coroutine frame per stream) await `waiter()` then `take()`.
    """

    __slots__ = ("_backlog", "_fanout", "_idle", "_items", "_newer", "_waiter", "closed")

    def __init__(self, fanout: _Fanout) -> None:
        self._fanout = fanout
        # An empty tuple until there is something pending: an idle subscriber (most of the
        # thousands a replica holds) then owns no list objects (~140 B each).
        self._backlog: list[Event] | tuple[()] = ()
        self._items: list[Event] | tuple[()] = ()
        self._waiter: asyncio.Future[None] | None = None
        self._idle = True
        # After a replay: which live events are past it. The reader may still be catching up
        # on events the replay already covered (after a Redis outage it is behind for a
        # while); those are dropped until the first newer one, then the check goes.
        self._newer: Callable[[Event], bool] | None = None
        # Why the fan-out dropped this subscriber (None while it is attached).
        self.closed: str | None = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def replay(self, events: list[Event], newer: Callable[[Event], bool] | None = None) -> None:
        """Events missed before attaching go first; live ones already in are kept if newer."""
        self._backlog = events
        if newer is not None:
            self._items = [event for event in self._items if newer(event)] or ()
            self._newer = None if self._items else newer
        if events:
            self._wake()

    def push(self, events: list[Event]) -> None:
        if self.closed is not None:
            return
        if self._newer is not None:
            newer = self._newer
            events = [event for event in events if newer(event)]
            if not events:
                return
            self._newer = None
        if len(self._items) + len(events) > PENDING_LIMIT:
            self._items = ()
            self.close(SLOW_REASON)
            return
        if isinstance(self._items, list):
            self._items.extend(events)
        else:
            self._items = list(events)
        self._idle = False
        self._wake()

    def beat(self) -> None:
        """From the replica's heartbeat: wake a subscriber that had nothing to send lately."""
        if self._idle:
            self._wake()
        self._idle = True

    def waiter(self) -> asyncio.Future[None] | None:
        """What to await before `take()`; None when there is something to take already."""
        if self._backlog or self._items or self.closed is not None:
            return None
        self._waiter = asyncio.get_running_loop().create_future()
        return self._waiter

    def take(self) -> list[Event] | None:
        """The events waiting, oldest first; [] when woken for a keep-alive; None once the
        subscriber was dropped (see `closed`)."""
        self._waiter = None
        if isinstance(self._backlog, list) and self._backlog:
            batch, self._backlog = self._backlog, ()
            return batch
        if isinstance(self._items, list) and self._items:
            batch, self._items = self._items, ()
            return batch
        return None if self.closed is not None else []

    async def next(self) -> list[Event] | None:
        waiter = self.waiter()
        if waiter is not None:
            await waiter
        return self.take()

    def close(self, reason: str = "closed") -> None:
        if self.closed is None:
            self.closed = reason
            self._fanout.remove(self)
            self._wake()


class _Fanout:
    """Local subscribers of one replica, and the one heartbeat that keeps them alive."""

    def __init__(self, heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self.subscribers: set[Subscription] = set()
        self.heartbeat_seconds = heartbeat_seconds
        self._heart: asyncio.Task[None] | None = None

    def add(self) -> Subscription:
        subscription = Subscription(self)
        self.subscribers.add(subscription)
        if self._heart is None or self._heart.done():
            # Started by the first subscriber and ended by the last, so a bus nobody listens
            # to costs nothing and needs no start().
            self._heart = asyncio.create_task(self._beat(), name="omniroute-events-heartbeat")
        return subscription

    def remove(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)

    def deliver(self, events: list[Event]) -> None:
        if events:
            for subscription in list(self.subscribers):
                subscription.push(events)

    async def _beat(self) -> None:
        while self.subscribers:
            await asyncio.sleep(self.heartbeat_seconds)
            for subscription in list(self.subscribers):
                subscription.beat()

    async def stop(self) -> None:
        for subscription in list(self.subscribers):
            subscription.close("server shutting down")
        if self._heart is not None:
            self._heart.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heart


async def _iterate(subscription: Subscription) -> AsyncIterator[Event]:
    """A subscription as a plain stream of events (a dropped one ends with a reset)."""
    try:
        while True:
            batch = await subscription.next()
            if batch is None:
                yield _reset(subscription.closed or "closed")
                return
            for event in batch:
                yield event
    finally:
        subscription.close()


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None: ...

    async def attach(self, since: str | None) -> Subscription: ...

    def subscribe(self, since: str | None) -> AsyncIterator[Event]: ...

    @property
    def subscriber_count(self) -> int: ...


class InProcessBus:
    """One replica: a ring buffer of recent events plus the subscribers' pending lists."""

    def __init__(self, buffer_size: int = 10_000,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        self._buffer: deque[Event] = deque(maxlen=buffer_size)
        self._seq = 0
        self._fanout = _Fanout(heartbeat_seconds)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self._fanout.stop()

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout.subscribers)

    async def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        now = datetime.now(UTC).isoformat()
        batch: list[Event] = []
        for type_, data in events:
            self._seq += 1
            batch.append(Event(id=str(self._seq), type=type_, data=data, at=now))
        self._buffer.extend(batch)
        self._fanout.deliver(batch)

    def _missed(self, since: str) -> list[Event]:
        last = int(since) if since.isdigit() else -1
        oldest = int(self._buffer[0].id) if self._buffer else None
        if last < 0 or last > self._seq or (oldest is not None and last < oldest - 1):
            return [_reset("the requested position is no longer available")]
        # Ids are consecutive, so the missed events are the buffer's last (seq - last).
        missed = list(itertools.islice(reversed(self._buffer), self._seq - last))
        missed.reverse()
        return missed

    async def attach(self, since: str | None) -> Subscription:
        # No await between joining the fan-out and reading the buffer: nothing can fall
        # between the replay and the live events, and nothing comes twice.
        subscription = self._fanout.add()
        if since is not None:
            subscription.replay(self._missed(since))
        return subscription

    async def subscribe(self, since: str | None) -> AsyncIterator[Event]:
        async for event in _iterate(await self.attach(since)):
            yield event


def _text_id(entry_id: Any) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def _redis_id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


class RedisBus:
    """Many replicas: one Redis stream; one reader per replica tails it and fans out locally
    (subscribers never read Redis themselves, except once to replay what they missed)."""

    def __init__(self, url: str, stream: str = "omniroute:events", maxlen: int = 100_000,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS) -> None:
        from redis.asyncio import Redis

        self._redis: Redis = Redis.from_url(url)
        self._stream = stream
        self._maxlen = maxlen
        self._fanout = _Fanout(heartbeat_seconds)
        self._reader: asyncio.Task[None] | None = None
        # Events committed while Redis was unreachable (router/events/spool.py).
        self._spool = Spool(self._xadd, maxlen)

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout.subscribers)

    async def start(self) -> None:
        await self._redis.ping()
        self._reader = asyncio.create_task(self._tail(), name="omniroute-redis-events")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._spool.stop()
        await self._fanout.stop()
        await self._redis.aclose()

    @property
    def spooled(self) -> int:
        """Events waiting for Redis to come back."""
        return len(self._spool)

    async def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Never raises: the events' transaction has committed whatever Redis does."""
        now = datetime.now(UTC).isoformat()
        # One event that cannot be encoded is repaired, never the batch's end.
        bodies = [encode({"type": type_, "data": data, "at": now}, f"a {type_} event")
                  for type_, data in events]
        if not self._spool:
            try:
                await self._xadd(bodies)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("live events: Redis unreachable (%s); keeping events until it "
                            "answers", type(exc).__name__)
        self._spool.add(bodies)

    async def _xadd(self, bodies: list[bytes]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for body in bodies:
                pipe.xadd(self._stream, {"e": body}, maxlen=self._maxlen, approximate=True)
            await pipe.execute()

    @staticmethod
    def _decode(entry_id: Any, fields: Any) -> Event:
        body = json.loads(fields[b"e"])
        ident = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return Event(id=ident, type=body["type"], data=body["data"], at=body["at"])

    @classmethod
    def _decode_all(cls, entries: Any) -> list[Event]:
        """The stream entries as events; one that cannot be read (another version's, or
        written by hand) is skipped and logged, never the end of the reader."""
        out: list[Event] = []
        for entry_id, fields in entries:
            try:
                out.append(cls._decode(entry_id, fields))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("skipping unreadable event %r in the Redis stream (%s)",
                            entry_id, type(exc).__name__)
        return out

    async def _tail(self) -> None:
        last = "$"
        while True:
            try:
                answer = await self._redis.xread({self._stream: last}, block=5000, count=500)
            except asyncio.CancelledError:
                raise
            except Exception:
                await asyncio.sleep(1.0)
                continue
            streams: list[Any] = list(answer or [])
            for _stream, entries in streams:
                if entries:
                    last = _text_id(entries[-1][0])
                self._fanout.deliver(self._decode_all(entries))

    async def _missed(self, since: str) -> tuple[list[Event], tuple[int, int]]:
        try:
            last = _redis_id(since)
        except ValueError:
            return [_reset("unknown event id")], (0, 0)
        out: list[Event] = []
        first: list[Any] = list(await self._redis.xrange(self._stream, count=1) or [])
        if first and _redis_id(_text_id(first[0][0])) > last and since != "0":
            out.append(_reset("the requested position is no longer available"))
        missed: list[Any] = list(await self._redis.xrange(
            self._stream, min="(" + since, count=10_000) or [])
        if missed:
            last = _redis_id(_text_id(missed[-1][0]))
        out.extend(self._decode_all(missed))
        return out, last

    async def attach(self, since: str | None) -> Subscription:
        # Join the fan-out first so nothing published during the replay read is lost; live
        # events the replay already covers are dropped once it is known how far it got.
        subscription = self._fanout.add()
        if since is not None:
            try:
                missed, last = await self._missed(since)
            except BaseException:
                subscription.close()
                raise
            subscription.replay(missed, newer=lambda event: _redis_id(event.id) > last)
        return subscription

    async def subscribe(self, since: str | None) -> AsyncIterator[Event]:
        async for event in _iterate(await self.attach(since)):
            yield event
