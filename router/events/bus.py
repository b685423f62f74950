"""Live events: typed, ordered, resumable. In-process by default, Redis Streams across replicas.

Events are published after the transaction that caused them committed; a client that
reconnects with Last-Event-ID gets what it missed from the replica's buffer (or the Redis
stream), or a `stream.reset` telling it to reload, never a silent gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    data: dict[str, Any]
    at: str

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "at": self.at, "data": self.data}


def _reset(reason: str) -> Event:
    return Event(id="", type="stream.reset", data={"reason": reason},
                 at=datetime.now(UTC).isoformat())


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None: ...

    def subscribe(self, since: str | None) -> AsyncIterator[Event]: ...

    @property
    def subscriber_count(self) -> int: ...


class _Fanout:
    """Local subscribers of one replica, each with a bounded queue."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queues: set[asyncio.Queue[Event]] = set()
        self.queue_size = queue_size

    def add(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self.queue_size)
        self.queues.add(queue)
        return queue

    def remove(self, queue: asyncio.Queue[Event]) -> None:
        self.queues.discard(queue)

    def deliver(self, event: Event) -> None:
        for queue in list(self.queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A client too slow to keep up is told to reload rather than silently skip.
                self.queues.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(_reset("client too slow"))


class InProcessBus:
    """One replica: a ring buffer of recent events plus per-subscriber queues."""

    def __init__(self, buffer_size: int = 10_000) -> None:
        self._buffer: deque[Event] = deque(maxlen=buffer_size)
        self._seq = 0
        self._fanout = _Fanout()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout.queues)

    async def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        now = datetime.now(UTC).isoformat()
        for type_, data in events:
            self._seq += 1
            event = Event(id=str(self._seq), type=type_, data=data, at=now)
            self._buffer.append(event)
            self._fanout.deliver(event)

    async def subscribe(self, since: str | None) -> AsyncIterator[Event]:
        queue = self._fanout.add()
        try:
            last = 0
            if since is not None:
                last = int(since) if since.isdigit() else -1
                oldest = self._buffer[0].id if self._buffer else None
                if last < 0 or last > self._seq or (
                    oldest is not None and last < int(oldest) - 1
                ):
                    yield _reset("the requested position is no longer available")
                else:
                    for event in list(self._buffer):
                        if int(event.id) > last:
                            last = int(event.id)
                            yield event
            while True:
                event = await queue.get()
                if event.type == "stream.reset":
                    yield event
                    return
                if int(event.id) > last:
                    last = int(event.id)
                    yield event
        finally:
            self._fanout.remove(queue)


def _redis_id(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


class RedisBus:
    """Many replicas: one Redis stream; each replica tails it and fans out locally."""

    def __init__(self, url: str, stream: str = "omniroute:events", maxlen: int = 100_000) -> None:
        from redis.asyncio import Redis

        self._redis: Redis = Redis.from_url(url)
        self._stream = stream
        self._maxlen = maxlen
        self._fanout = _Fanout()
        self._reader: asyncio.Task[None] | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._fanout.queues)

    async def start(self) -> None:
        await self._redis.ping()
        self._reader = asyncio.create_task(self._tail(), name="omniroute-redis-events")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._redis.aclose()

    async def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        now = datetime.now(UTC).isoformat()
        async with self._redis.pipeline(transaction=False) as pipe:
            for type_, data in events:
                body = orjson.dumps({"type": type_, "data": data, "at": now})
                pipe.xadd(self._stream, {"e": body}, maxlen=self._maxlen, approximate=True)
            await pipe.execute()

    @staticmethod
    def _decode(entry_id: Any, fields: Any) -> Event:
        body = json.loads(fields[b"e"])
        ident = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return Event(id=ident, type=body["type"], data=body["data"], at=body["at"])

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
                for entry_id, fields in entries:
                    event = self._decode(entry_id, fields)
                    last = event.id
                    self._fanout.deliver(event)

    async def subscribe(self, since: str | None) -> AsyncIterator[Event]:
        queue = self._fanout.add()
        try:
            last: tuple[int, int] = (0, 0)
            if since is not None:
                try:
                    last = _redis_id(since)
                except ValueError:
                    yield _reset("unknown event id")
                    last = (0, 0)
                else:
                    first: list[Any] = list(await self._redis.xrange(self._stream, count=1) or [])
                    if first and _redis_id(self._decode(*first[0]).id) > last and since != "0":
                        yield _reset("the requested position is no longer available")
                    missed: list[Any] = list(await self._redis.xrange(
                        self._stream, min="(" + since, count=10_000) or [])
                    for entry_id, fields in missed:
                        event = self._decode(entry_id, fields)
                        last = _redis_id(event.id)
                        yield event
            while True:
                event = await queue.get()
                if event.type == "stream.reset":
                    yield event
                    return
                if _redis_id(event.id) > last:
                    last = _redis_id(event.id)
                    yield event
        finally:
            self._fanout.remove(queue)
