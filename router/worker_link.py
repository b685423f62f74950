"""`serve --workers-process`: the HTTP server and its worker process, joined by one socket.

The server answers webhooks and the API; the child (`omniroute worker`) runs the inbound and
outbox workers and the receivers, so a batch's CPU never stalls the loop that acknowledges
webhooks, and the second core does the processing. Over the socket the server wakes the
worker (b"i": raw events stored, b"o": a reply queued) — the poll would otherwise add up to a
second — and, when there is no Redis to carry them, the worker sends its live events back as
length-prefixed JSON frames for the server's subscribers. With Redis, events go through the
stream as between any replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import subprocess
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from router.events.bus import Event, Subscription

log = logging.getLogger("omniroute.worker")
WAKE_INBOUND = b"i"
WAKE_OUTBOX = b"o"
_FRAME = struct.Struct("!I")
# How long a stopping server waits for its worker process (its own shutdown is bounded).
WORKER_STOP_SECONDS = 20


def stop_worker_process(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM, so it finishes its sends and hands back what it claimed; killed only if it
    overstays."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(WORKER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


async def _open(fd: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = socket.socket(fileno=fd)
    sock.setblocking(False)
    return await asyncio.open_connection(sock=sock)


class ServerLink:
    """The server's end: wakes the worker, publishes the events it sends here."""

    def __init__(self, fd: int, publish: Callable[[list[tuple[str, dict[str, Any]]]], Any]
                 ) -> None:
        self._fd = fd
        self._publish = publish
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.alive = False

    async def start(self) -> None:
        reader, self._writer = await _open(self._fd)
        self.alive = True
        self._reader_task = asyncio.create_task(self._read(reader), name="omniroute-worker-link")

    def wake(self, kind: bytes) -> None:
        """One byte, never waited for (the socket buffer takes it; a full one means the
        worker has plenty of wake-ups queued already)."""
        if self._writer is not None and not self._writer.is_closing():
            with contextlib.suppress(Exception):
                self._writer.write(kind)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                head = await reader.readexactly(_FRAME.size)
                body = await reader.readexactly(_FRAME.unpack(head)[0])
                events = [(str(t), dict(d)) for t, d in orjson.loads(body)]
                await self._publish(events)
        except asyncio.IncompleteReadError:
            log.error("the worker process is gone; this server no longer processes events")
        finally:
            self.alive = False

    async def stop(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        if self._writer is not None:
            self._writer.close()


class WorkerBus:
    """The worker's event bus: its events go to the server (no Redis), which has the
    subscribers; wake-ups from the server set the worker's events."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.on_wake: Callable[[bytes], None] = lambda _kind: None
        self.server_gone = asyncio.Event()

    @property
    def subscriber_count(self) -> int:
        return 0

    async def start(self) -> None:
        reader, self._writer = await _open(self._fd)
        self._reader_task = asyncio.create_task(self._read(reader), name="omniroute-wakes")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                kinds = await reader.read(4096)
                if not kinds:
                    break
                for kind in (WAKE_INBOUND, WAKE_OUTBOX):
                    if kind in kinds:
                        self.on_wake(kind)
        finally:
            self.server_gone.set()

    async def stop(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer.drain()
            self._writer.close()

    async def publish(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        if self._writer is None or self._writer.is_closing():
            log.warning("%d live events dropped: the server is gone", len(events))
            return
        body = orjson.dumps(events)
        self._writer.write(_FRAME.pack(len(body)) + body)
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def attach(self, since: str | None) -> Subscription:
        raise RuntimeError("the worker process serves no live-event clients")

    async def subscribe(self, since: str | None) -> AsyncIterator[Event]:
        raise RuntimeError("the worker process serves no live-event clients")
        yield  # pragma: no cover
