"""ASGI middleware: request body size cap, webhook rate limits and request metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import problem_body
from router.logs import access, begin_request
from router.metrics import Metrics
from router.ratelimit.webhooks import WebhookThrottle


def too_large_body(max_bytes: int) -> dict[str, object]:
    return problem_body(413, "payload-too-large", "Payload too large",
                        f"request bodies are limited to {max_bytes} bytes")


@dataclass(frozen=True, slots=True)
class RouteLimit:
    """A route's own body limit: its path pattern, methods and limit in bytes."""

    pattern: re.Pattern[str]
    methods: frozenset[str]
    max_bytes: int

    def applies(self, scope: Scope) -> bool:
        return scope["method"] in self.methods and self.pattern.match(scope["path"]) is not None


def route_limits(routes: Sequence[BaseRoute]) -> list[RouteLimit]:
    """The routes that declare a body limit of their own (`max_body_size=` on the route, as
    the raw e-mail webhook does: real mail with attachments is 1-20 MB)."""
    out: list[RouteLimit] = []
    for context in iter_route_contexts(routes):
        limit = getattr(context, "max_body_size", None)
        if isinstance(limit, int) and not isinstance(limit, bool) and context.path:
            pattern, _format, _convertors = compile_path(context.path)
            out.append(RouteLimit(pattern, frozenset(context.methods or ()), limit))
    return out


class BodyLimit:
    """Refuses bodies over the limit with 413 before the app reads them into memory.

    The limit is `max_bytes` unless the route the request is for declares its own; only
    those few routes are matched here, so every other request pays nothing for them."""

    def __init__(self, app: ASGIApp, max_bytes: int, routes: Sequence[RouteLimit] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.routes = tuple(routes)

    def limit_for(self, scope: Scope) -> int:
        for route in self.routes:
            if route.applies(scope):
                return route.max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope) if self.routes else self.max_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(send, max_bytes)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, max_bytes)

    async def _refuse(self, send: Send, max_bytes: int) -> None:
        body = orjson.dumps(too_large_body(max_bytes))
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def source_address(scope: Scope) -> str:
    """The client's address as uvicorn reports it (behind a proxy: run with proxy headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def webhook_channel(path: str) -> str | None:
    """The channel id of a provider webhook path (/webhooks/<type>/<id>/…) or of the API
    channel's /v1/channels/<id>/inbound; None for every other path."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] == "webhooks" and parts[3]:
        return parts[3]
    if (len(parts) == 5 and parts[1] == "v1" and parts[2] == "channels" and parts[3]
            and parts[4] == "inbound"):
        return parts[3]
    return None


class WebhookLimit:
    """The webhook rate limits for what FastAPI serves (the hot path checks its own with the
    same counters): e-mail, verification GETs, and every webhook when the hot path is off."""

    def __init__(self, app: ASGIApp, throttle: WebhookThrottle) -> None:
        self.app = app
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        channel_id = webhook_channel(scope["path"]) if scope["type"] == "http" else None
        refused = (self.throttle.refusal(channel_id, source_address(scope))
                   if channel_id is not None else None)
        if refused is None:
            await self.app(scope, receive, send)
            return
        body = orjson.dumps(refused.body())
        await send({"type": "http.response.start", "status": refused.status,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode()),
                                *((k.lower().encode(), v.encode())
                                  for k, v in refused.headers().items())]})
        await send({"type": "http.response.body", "body": body})


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        rid = begin_request(scope["headers"]).encode()

        async def wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid)]
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", "unmatched")
            seconds = time.perf_counter() - started
            self.metrics.observe_request(scope["method"], path, status, seconds)
            access(scope["method"], path, status, seconds)
