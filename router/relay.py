"""Live deliveries across replicas: a visitor's socket may be held by any replica.

A web-chat reply is sent by whichever replica's outbox claimed it, but the visitor's WebSocket
lives in one process. With one replica there is nothing to ask (`LocalRelay`). With Redis,
`RedisRelay` publishes the request to every replica and counts the answers of those that
pushed it, so "delivered" still means a socket took it, and a miss still falls back to e-mail.
The same channel carries how many agents each replica has connected, for web-chat presence.
A replica that runs no workers (an API-only replica) also says when it has stored raw events,
so the workers elsewhere start on them at once instead of at their next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

log = logging.getLogger("omniroute.relay")
LiveHandler = Callable[[str, dict[str, Any]], Awaitable[int]]
# How long a sender waits for the other replicas' answers before it counts what it has.
ANSWER_TIMEOUT_SECONDS = 1.0
# Each replica says how many agents it has this often; an entry twice as old is stale.
PRESENCE_SECONDS = 5.0


class LocalRelay:
    """One replica: every live connection is in this process, nothing to ask elsewhere."""

    def __init__(self) -> None:
        self.handlers: dict[str, LiveHandler] = {}

    def on_live(self, kind: str, handler: LiveHandler) -> None:
        self.handlers[kind] = handler

    async def deliver(self, kind: str, key: str, frame: dict[str, Any]) -> int:
        return 0

    def agents_elsewhere(self) -> bool:
        return False

    def on_wake(self, wake: Callable[[], None]) -> None:
        """Call `wake` when another replica has stored raw events (set before start)."""
        return None

    def wake_workers(self) -> None:
        """Tell the other replicas' inbound workers that raw events are waiting."""
        return None

    async def start(self, local_agents: Callable[[], int]) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisRelay(LocalRelay):
    def __init__(self, url: str, prefix: str) -> None:
        from redis.asyncio import Redis

        super().__init__()
        self._redis: Redis = Redis.from_url(url)
        self.replica = secrets.token_hex(6)
        self._requests = f"{prefix}:relay"
        self._answers = f"{prefix}:relay:{self.replica}"
        self._presence = f"{prefix}:agents"
        self._wakes = f"{prefix}:inbound"
        self._on_wake: Callable[[], None] | None = None
        self._waking: asyncio.Task[None] | None = None
        self._wake_again = False
        self._waiting: dict[str, tuple[asyncio.Future[None], list[int], int]] = {}
        self._agents_elsewhere = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None

    async def start(self, local_agents: Callable[[], int]) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._requests, self._answers,
                               *((self._wakes,) if self._on_wake is not None else ()))
        self._reader = asyncio.create_task(self._read(pubsub), name="omniroute-relay")
        self._beat = asyncio.create_task(self._presence_loop(local_agents),
                                         name="omniroute-relay-presence")

    async def stop(self) -> None:
        for task in (self._reader, self._beat, self._waking, *self._tasks):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(Exception):
            await self._redis.hdel(self._presence, self.replica)
        await self._redis.aclose()

    async def deliver(self, kind: str, key: str, frame: dict[str, Any]) -> int:
        request_id = secrets.token_hex(8)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        counts: list[int] = []
        body = orjson.dumps({"id": request_id, "from": self.replica, "kind": kind,
                             "key": key, "frame": frame})
        # Registered before publishing: an answer may arrive before PUBLISH returns the count.
        self._waiting[request_id] = (done, counts, 0)
        try:
            listeners = int(await self._redis.publish(self._requests, body))
            others = listeners - 1  # this replica hears its own request and ignores it
            if others <= 0:
                return 0
            self._waiting[request_id] = (done, counts, others)
            if len(counts) < others:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done, ANSWER_TIMEOUT_SECONDS)
            return sum(counts)
        finally:
            self._waiting.pop(request_id, None)

    def agents_elsewhere(self) -> bool:
        return self._agents_elsewhere

    def on_wake(self, wake: Callable[[], None]) -> None:
        self._on_wake = wake

    def wake_workers(self) -> None:
        # One PUBLISH in flight at a time; what is stored meanwhile is covered by one more.
        if self._waking is None or self._waking.done():
            self._waking = asyncio.create_task(self._publish_wakes())
        else:
            self._wake_again = True

    async def _publish_wakes(self) -> None:
        while True:
            self._wake_again = False
            try:
                await self._redis.publish(self._wakes, self.replica)
            except Exception:
                # The workers still poll; they find the events within their poll interval.
                log.warning("relay: could not wake the inbound workers", exc_info=True)
                return
            if not self._wake_again:
                return

    async def _read(self, pubsub: Any) -> None:
        while True:
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("relay: lost Redis; reconnecting", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if message is None:
                continue
            channel = message["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else channel
            if channel == self._wakes:
                if self._on_wake is not None:
                    self._on_wake()
                continue
            try:
                body = orjson.loads(message["data"])
            except orjson.JSONDecodeError:
                continue
            if channel == self._answers:
                self._answered(body)
            elif body.get("from") != self.replica:
                # Handled in its own task: a slow socket must not hold up other requests.
                task = asyncio.create_task(self._serve(body))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    def _answered(self, body: dict[str, Any]) -> None:
        waiting = self._waiting.get(str(body.get("id")))
        if waiting is None:
            return
        done, counts, expected = waiting
        counts.append(int(body.get("count", 0)))
        if expected and len(counts) >= expected and not done.done():
            done.set_result(None)

    async def _serve(self, body: dict[str, Any]) -> None:
        handler = self.handlers.get(str(body.get("kind")))
        count = 0
        if handler is not None:
            try:
                count = await handler(str(body.get("key")), dict(body.get("frame") or {}))
            except Exception:
                log.warning("relay: a %s delivery failed here", body.get("kind"), exc_info=True)
        answer = orjson.dumps({"id": body.get("id"), "count": count})
        with contextlib.suppress(Exception):
            await self._redis.publish(f"{self._requests}:{body.get('from')}", answer)

    async def _presence_loop(self, local_agents: Callable[[], int]) -> None:
        while True:
            try:
                now = time.time()
                await self._redis.hset(self._presence, self.replica, f"{local_agents()}:{now}")
                entries = await self._redis.hgetall(self._presence)
                gone = [r for r, v in entries.items() if _age(v, now) > 20 * PRESENCE_SECONDS]
                if gone:  # replicas that stopped without saying so
                    await self._redis.hdel(self._presence, *gone)
                self._agents_elsewhere = any(
                    _fresh_agents(value, now) for replica, value in entries.items()
                    if (replica.decode() if isinstance(replica, bytes) else replica)
                    != self.replica)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("relay: could not share agent presence", exc_info=True)
            await asyncio.sleep(PRESENCE_SECONDS)


def _age(value: bytes | str, now: float) -> float:
    text = value.decode() if isinstance(value, bytes) else value
    try:
        return now - float(text.partition(":")[2])
    except ValueError:
        return float("inf")


def _fresh_agents(value: bytes | str, now: float) -> bool:
    text = value.decode() if isinstance(value, bytes) else value
    count, _, at = text.partition(":")
    try:
        return int(count) > 0 and now - float(at) < 2 * PRESENCE_SECONDS
    except ValueError:
        return False


def make_relay(redis_url: str | None, prefix: str) -> LocalRelay:
    return RedisRelay(redis_url, prefix) if redis_url else LocalRelay()
