"""ASGI middleware: request body size cap, webhook rate limits and request metrics."""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import problem_body
from router.metrics import Metrics
from router.ratelimit.webhooks import WebhookThrottle


def too_large_body(max_bytes: int) -> dict[str, object]:
    return problem_body(413, "payload-too-large", "Payload too large",
                        f"request bodies are limited to {max_bytes} bytes")


class BodyLimit:
    """Refuses bodies over the limit with 413 before the app reads them into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
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
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(too_large_body(self.max_bytes))
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

        async def wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            route: Any = scope.get("route")
            self.metrics.observe_request(scope["method"], getattr(route, "path", "unmatched"),
                                         status, time.perf_counter() - started)
