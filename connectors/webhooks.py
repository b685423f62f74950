"""Inbound webhooks as plain handlers: one function, reached two ways.

A connector's busy POST webhooks (a bot forwarding messages, Telegram, WhatsApp) are written
as a `WebhookHandler`: channel id, headers and body in, an answer out. The connector's FastAPI
route calls it (that route is the documented one, in the OpenAPI), and the core's hot path
(router/ingest/hot_path.py) calls the same handler before FastAPI's middleware, routing and
dependency layers, which cost about four fifths of a webhook's CPU under load (bench/NOTES.md).
Either way the handler decides everything a client sees: the checks, the status, the body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import InboundGateway

CHANNEL_ID = "{channel_id}"


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """One request to a webhook: `headers` are looked up by lower-case name."""

    channel_id: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """What the handler answers on success; refusals raise WebhookRejected instead."""

    status: int
    body: Mapping[str, Any]


WebhookHandler = Callable[[InboundGateway, WebhookCall], Awaitable[WebhookAnswer]]


@dataclass(frozen=True, slots=True)
class Webhook:
    """A POST webhook at `path`, which holds `{channel_id}` as one path segment."""

    path: str
    handle: WebhookHandler
    _prefix: str = field(init=False, repr=False)
    _suffix: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        prefix, found, suffix = self.path.partition(CHANNEL_ID)
        if not found or CHANNEL_ID in suffix:
            raise ValueError(f"webhook path {self.path!r} needs exactly one {CHANNEL_ID}")
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_suffix", suffix)

    def channel_id(self, path: str) -> str | None:
        """The channel id when `path` is this webhook's, else None (as Starlette matches)."""
        if (len(path) <= len(self._prefix) + len(self._suffix)
                or not path.startswith(self._prefix) or not path.endswith(self._suffix)):
            return None
        middle = path[len(self._prefix):len(path) - len(self._suffix)]
        return middle if middle and "/" not in middle else None
