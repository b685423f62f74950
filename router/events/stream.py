"""The `text/event-stream` body, kept small: one replica holds thousands of these at once.

Each stream is a single coroutine waiting on its subscription (router/events/bus.py); no task,
timer or task group of its own. The replica's one heartbeat wakes idle streams for a
keep-alive. The client hanging up is noticed through `receive`, stepped by hand (see
`_HangupWatch`) rather than awaited in a task of its own.

`accepted_stream` lets the app (router/app.py) serve an authenticated, well-formed
`GET /v1/events` before FastAPI's middleware, routing and dependency machinery, which would
otherwise stay on the stack (and in memory) for the life of every stream: about 13 KB each.
Anything else, including every request that must be refused, goes on to the FastAPI route,
which answers it as documented.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from typing import Any

import orjson
from starlette.background import BackgroundTask
from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from router.access.viewer import Viewer, viewer_for
from router.auth.deps import stream_principal
from router.auth.tickets import TICKET_PARAM
from router.errors import problem_body
from router.events.bus import Event, EventBus, Subscription

log = logging.getLogger("omniroute.events")

PATH = "/v1/events"
HEADERS: list[tuple[bytes, bytes]] = [
    (b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no"),
    (b"content-type", b"text/event-stream; charset=utf-8")]
HANGUP = "client hung up"
# The limits the FastAPI route declares for these parameters.
MAX_POSITION = 64
MAX_TYPES = 500
# The context `receive()` is stepped in. It reads no context variables, and callbacks run one
# at a time on the loop, so one shared context serves every stream; without it each waiting
# callback would hold its own copy of the current one.
_WATCH_CONTEXT = contextvars.Context()


def _sse(event: Event) -> bytes:
    head = f"id: {event.id}\n" if event.id else ""
    return (head + f"event: {event.type}\ndata: ").encode() + event.wire_json() + b"\n\n"


def matches(event: Event, types: set[str] | None) -> bool:
    return types is None or event.type in types or event.type == "stream.reset"


def parse_types(raw: str | None) -> set[str] | None:
    return {t.strip() for t in raw.split(",") if t.strip()} if raw else None


class _HangupWatch:
    """Closes the subscription once `receive` says `http.disconnect`, without a task.

    The server's `receive` coroutine is driven the way a task would drive it: stepped until it
    waits on a future, and stepped again from that future's done-callback. (uvicorn drops
    writes to a closed connection silently, so only `receive` tells that the client left.)
    """

    __slots__ = ("_probe", "_receive", "_subscription")

    def __init__(self, receive: Receive, subscription: Subscription) -> None:
        self._receive = receive
        self._subscription = subscription
        self._probe: Any = None
        self._step()

    def _step(self, _: object = None) -> None:
        while self._subscription.closed is None:
            if self._probe is None:
                probe = self._receive()
                if not inspect.iscoroutine(probe):
                    return  # Cannot be stepped; a failing write ends the stream instead.
                self._probe = probe
            try:
                waiting = self._probe.send(None)
            except StopIteration as answered:
                self._probe = None
                message: Any = answered.value
                if isinstance(message, dict) and message.get("type") == "http.disconnect":
                    self._subscription.close(HANGUP)
                    return
                continue  # A request body chunk (a GET's is empty): ask again.
            except (Exception, asyncio.CancelledError):
                self._probe = None
                return
            # The watch itself is the callback: `self._step` would be a bound-method object
            # held by every idle stream's pending future.
            if asyncio.isfuture(waiting):
                waiting.add_done_callback(self, context=_WATCH_CONTEXT)
            else:
                asyncio.get_running_loop().call_soon(self, context=_WATCH_CONTEXT)
            return

    __call__ = _step

    def close(self) -> None:
        """Withdraw the pending `receive` (closing it removes its waiter)."""
        probe, self._probe = self._probe, None
        if probe is not None:
            probe.close()


async def _write(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def stream_events(bus: EventBus, since: str | None, types: set[str] | None,
                        viewer: Viewer, receive: Receive, send: Send) -> None:
    try:
        subscription = await bus.attach(since)
    except Exception as exc:
        # Replaying what it missed needs the Redis stream: the client keeps its Last-Event-ID
        # and comes back (EventSource does by itself).
        log.warning("live events: cannot replay from %s (%s)", since, type(exc).__name__)
        body = orjson.dumps(problem_body(
            503, "unavailable", "Service unavailable",
            "live events cannot be replayed right now; reconnect with the same Last-Event-ID"))
        await send({"type": "http.response.start", "status": 503,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"retry-after", b"1"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    watch: _HangupWatch | None = None
    viewer.opened()
    try:
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await _write(send, b": connected\n\n")
        watch = _HangupWatch(receive, subscription)
        while True:
            waiter = subscription.waiter()
            if waiter is not None:
                await waiter
            batch = subscription.take()
            if batch is None:
                break
            if batch:
                chunk = b"".join(_sse(event) for event in batch
                                 if viewer.admits(event) and matches(event, types))
            else:
                chunk = b": keep-alive\n\n"
            if chunk:
                await _write(send, chunk)
        if subscription.closed != HANGUP:
            # Dropped (too slow, or shutdown): a clean end; EventSource reconnects with
            # Last-Event-ID and gets the rest from the replay buffer.
            note = f": {subscription.closed}; reconnect with Last-Event-ID\n\n"
            await _write(send, note.encode())
    except OSError:
        return  # Servers that follow ASGI 2.4 raise on a write to a closed connection.
    finally:
        if watch is not None:
            watch.close()
        subscription.close()
        viewer.closed()
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class EventStream(Response):
    """The stream as a Response, for the FastAPI route."""

    media_type = "text/event-stream"

    def __init__(self, bus: EventBus, since: str | None, types: set[str] | None,
                 viewer: Viewer) -> None:
        self.status_code = 200
        self.background: BackgroundTask | None = None
        self.raw_headers = HEADERS
        self._args = (bus, since, types, viewer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await stream_events(*self._args, receive, send)
        if self.background is not None:
            await self.background()


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header, as starlette's `Headers.get` reads it. (Building
    `Headers` from the scope would put a copy of the header list into it, which an open stream
    keeps for its lifetime.)"""
    raw: bytes
    for key, raw in scope["headers"]:
        if key == name:
            return raw.decode("latin-1")
    return None


async def _accepted(app: Any, scope: Scope) -> tuple[EventBus, str | None, set[str] | None,
                                                     Viewer] | None:
    """The stream's arguments when the request is one the route would accept, else None."""
    query = QueryParams(scope["query_string"])
    last_event_id = _header(scope, b"last-event-id")
    since = last_event_id or query.get("since")
    types = query.get("types")
    if (len(last_event_id or "") > MAX_POSITION or len(query.get("since") or "") > MAX_POSITION
            or len(types or "") > MAX_TYPES):
        return None
    core = app.state.core
    try:
        principal = await stream_principal(core, app.state.key_cache,
                                           _header(scope, b"authorization"),
                                           query.get(TICKET_PARAM))
    except Exception:
        # Refused, or the key store failed: the route answers both the documented way.
        return None
    if not principal.at_least("agent"):
        return None
    return core.bus, since, parse_types(types), viewer_for(principal, core.presence)


async def accepted_stream(app: Any, scope: Scope) -> tuple[EventBus, str | None,
                                                          set[str] | None, Viewer] | None:
    """For the fast path: the stream's arguments if this is a `GET /v1/events` the route
    would accept; None for any other request (FastAPI then handles it as usual)."""
    if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET":
        return None
    return await _accepted(app, scope)
