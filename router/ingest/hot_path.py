"""The busy inbound webhooks, served before FastAPI's stack (connectors/webhooks.py says why).

Only a POST to a connector's declared webhook path is taken here. Everything else (other
methods and paths, an app mounted under a root_path, a request before start-up finished) goes
on to FastAPI, which serves the same handlers on the documented routes. What a client gets is
what those routes give: the same checks, statuses, problem documents, size limit and request
metrics (tests/router/test_hot_path.py compares the two).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import orjson
from starlette.types import Message, Receive, Scope, Send

from connectors.base import Connector, InboundGateway, WebhookRejected
from connectors.webhooks import Webhook, WebhookCall
from router.db import database_unavailable
from router.errors import ProblemError
from router.logs import access, begin_request
from router.metrics import Metrics
from router.middleware import source_address, too_large_body
from router.problems import (
    PROBLEM_JSON,
    internal_body,
    rejected_body,
    retry_after_header,
    unavailable_problem,
)
from router.ratelimit.webhooks import WebhookThrottle

log = logging.getLogger("omniroute.errors")
# Starlette's answer to a client that left before its request was read (router/problems.py).
CLIENT_GONE = 499


class _TooLarge(Exception):
    pass


class WebhookHotPath:
    def __init__(self, connectors: Mapping[str, Connector], metrics: Metrics,
                 max_body_bytes: int, throttle: WebhookThrottle) -> None:
        self._webhooks = [hook for name in sorted(connectors)
                          for hook in connectors[name].webhooks()]
        self._metrics = metrics
        self._max_body = max_body_bytes
        self._throttle = throttle

    def find(self, scope: Scope) -> tuple[Webhook, str] | None:
        """The webhook and channel id this request is for, or None (FastAPI serves it)."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        for hook in self._webhooks:
            channel_id = hook.channel_id(path)
            if channel_id is not None:
                return hook, channel_id
        return None

    async def serve(self, gateway: InboundGateway, hook: Webhook, channel_id: str,
                    scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500
        rid = begin_request(scope["headers"])
        try:
            status = await self._answer(gateway, hook, channel_id, scope, receive,
                                        _with_request_id(send, rid.encode()))
        finally:
            seconds = time.perf_counter() - started
            self._metrics.observe_request("POST", hook.path, status, seconds)
            access("POST", hook.path, status, seconds)

    async def _answer(self, gateway: InboundGateway, hook: Webhook, channel_id: str,
                      scope: Scope, receive: Receive, send: Send) -> int:
        # ASGI header names are lower-case; the first of a repeated header wins, as in Starlette.
        # Before the body is read or anything verified: a flood is refused at its cheapest.
        refused = self._throttle.refusal(channel_id, source_address(scope))
        if refused is not None:
            return await _respond(send, 429, refused.body(), PROBLEM_JSON,
                                  retry_after_header(refused))
        headers = {k.decode("latin-1"): v.decode("latin-1")
                   for k, v in reversed(scope["headers"])}
        try:
            body = await self._body(headers, receive)
        except _TooLarge:
            return await _respond(send, 413, too_large_body(self._max_body), PROBLEM_JSON)
        if body is None:
            return CLIENT_GONE
        try:
            answer = await hook.handle(gateway, WebhookCall(channel_id, headers, body))
        except WebhookRejected as exc:
            return await _respond(send, exc.status, rejected_body(exc), PROBLEM_JSON)
        except ProblemError as exc:
            return await _respond(send, exc.status, exc.body(), PROBLEM_JSON,
                                  retry_after_header(exc))
        except Exception as exc:
            if database_unavailable(exc):
                problem = unavailable_problem()
                return await _respond(send, problem.status, problem.body(), PROBLEM_JSON,
                                      retry_after_header(problem))
            log.exception("unhandled error on POST %s", scope["path"])
            return await _respond(send, 500, internal_body(), PROBLEM_JSON)
        return await _respond(send, answer.status, answer.body, "application/json")

    async def _body(self, headers: Mapping[str, str], receive: Receive) -> bytes | None:
        """The whole body, None if the client left first; over the limit raises _TooLarge."""
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _with_request_id(send: Send, rid: bytes) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message["headers"], (b"x-request-id", rid)]
        await send(message)

    return sending


async def _respond(send: Send, status: int, document: Mapping[str, object],
                   content_type: str, extra: list[tuple[bytes, bytes]] | None = None) -> int:
    body = orjson.dumps(dict(document))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-length", str(len(body)).encode()),
                            (b"content-type", content_type.encode()), *(extra or ())]})
    await send({"type": "http.response.body", "body": body})
    return status
