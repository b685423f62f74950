"""`WS /webchat/{channel_id}/ws`: the widget's live connection.

Frames are JSON objects with a `type`. The first frame from the widget is
`{"type": "hello", "token": ...}`; after `ready` both sides may send:
  widget → server: message {id, text, attachments, profile} · read {message_ids} · typing · ping
                   choice {id} (a star under a survey)
  server → widget: ready · ack {id, external_id} · error {id?, code, detail} · message {message}
                   typing {active} · presence {agents_online} · pong · chosen {id}
Close codes: 1003 not a JSON text frame, 1008 origin or token refused (before accept the
handshake gets 403), 1009 frame too large, 1012 channel deleted, 4404 no such channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from connectors.base import Channel, InboundGateway, WebhookRejected
from connectors.webchat.guard import origin_allowed
from connectors.webchat.intake import (
    Runtime,
    accept_choice,
    accept_message,
    accept_read,
    echo_frame,
    visitor_from_token,
)
from connectors.webchat.live import VisitorSocket
from connectors.webchat.parse import message_external_id
from connectors.webchat.schemas import WebchatVisitorMessage
from connectors.webchat.tokens import Visitor

MAX_FRAME_BYTES = 32_768
HELLO_TIMEOUT_SECONDS = 10.0
# Idle this long and we send presence; it doubles as a keep-alive through proxies.
HEARTBEAT_SECONDS = 25.0
TYPING_INTERVAL_SECONDS = 2.5


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _ws_origin(websocket: WebSocket) -> str:
    scheme = "https" if websocket.url.scheme == "wss" else "http"
    return f"{scheme}://{websocket.headers.get('host', websocket.url.netloc)}"


async def _receive(websocket: WebSocket, timeout: float) -> dict[str, Any] | None:
    """The next frame as an object; None on idle timeout."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout)
    except TimeoutError:
        return None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if not isinstance(text, str):
        raise _Close(1003, "frames must be JSON text")
    if len(text.encode()) > MAX_FRAME_BYTES:
        raise _Close(1009, f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _Close(1003, "frames must be JSON objects") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise _Close(1003, "frames must be JSON objects with a type")
    return frame


async def _handle(frame: dict[str, Any], gateway: InboundGateway, runtime: Runtime,
                  channel: Channel, visitor: Visitor, socket: VisitorSocket) -> None:
    kind = frame["type"]
    if kind == "message":
        body = {k: v for k, v in frame.items() if k != "type"}
        try:
            message = WebchatVisitorMessage.model_validate(body)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
            await socket.send({"type": "error", "id": body.get("id"), "code": "invalid",
                               "detail": "invalid fields: " + ", ".join(fields)})
            return
        try:
            event = await accept_message(gateway, channel, visitor, message)
        except WebhookRejected as exc:
            code = "rate_limited" if exc.status == 429 else "refused"
            await socket.send({"type": "error", "id": message.id, "code": code,
                               "detail": exc.detail})
            return
        await socket.send({"type": "ack", "id": message.id,
                           "external_id": message_external_id(visitor.visitor_id, message.id)})
        await runtime.live.push(channel.id, visitor.visitor_id, echo_frame(event), socket)
    elif kind == "read":
        ids = frame.get("message_ids")
        if isinstance(ids, list) and ids and all(isinstance(i, int) and 0 < i < 2**63 for i in ids):
            await accept_read(gateway, channel, visitor, ids[:200])
    elif kind == "choice":
        choice = frame.get("id")
        if not isinstance(choice, str) or not 0 < len(choice) <= 64:
            await socket.send({"type": "error", "code": "invalid",
                               "detail": "a choice needs the id of one of the choices"})
            return
        try:
            await accept_choice(gateway, channel, visitor, choice)
        except WebhookRejected as exc:
            await socket.send({"type": "error", "code": "rate_limited", "detail": exc.detail})
            return
        await socket.send({"type": "chosen", "id": choice})
    elif kind == "ping":
        await socket.send({"type": "pong", "agents_online": gateway.agents_online()})
    elif kind == "typing":
        now = time.monotonic()
        # The widget sends one every 3 s while typing; a chattier client is thinned here so
        # agents' event streams carry at most one per visitor socket per interval.
        if now - socket.typing_at >= TYPING_INTERVAL_SECONDS:
            socket.typing_at = now
            await gateway.customer_typing(channel, visitor.visitor_id)
    else:
        await socket.send({"type": "error", "code": "unknown_type",
                           "detail": f"unknown frame type {kind!r}"})


async def _session(websocket: WebSocket, gateway: InboundGateway, runtime: Runtime,
                   channel: Channel) -> None:
    hello = await _receive(websocket, HELLO_TIMEOUT_SECONDS)
    if hello is None or hello["type"] != "hello":
        raise _Close(1008, "the first frame must be hello with the visitor token")
    try:
        token = hello.get("token")
        visitor = visitor_from_token(gateway, channel, token if isinstance(token, str) else None)
    except WebhookRejected as exc:
        await websocket.send_text(orjson.dumps(
            {"type": "error", "code": "invalid_token", "detail": exc.detail}).decode())
        raise _Close(1008, "invalid visitor token") from None
    socket = VisitorSocket(websocket)
    runtime.live.add(channel.id, visitor.visitor_id, socket)
    try:
        await socket.send({"type": "ready", "visitor_id": visitor.visitor_id,
                           "verified": visitor.verified,
                           "agents_online": gateway.agents_online()})
        while True:
            frame = await _receive(websocket, HEARTBEAT_SECONDS)
            if frame is None:
                await socket.send({"type": "presence", "agents_online": gateway.agents_online()})
                continue
            await _handle(frame, gateway, runtime, channel, visitor, socket)
    finally:
        runtime.live.remove(channel.id, visitor.visitor_id, socket)


def add_websocket_route(router: APIRouter, runtime: Runtime) -> None:
    @router.websocket("/webchat/{channel_id}/ws")
    async def visitor_socket(websocket: WebSocket, channel_id: str) -> None:
        gateway: InboundGateway = websocket.app.state.inbound_gateway
        try:
            channel = await gateway.channel(channel_id, "webchat")
        except Exception:
            # Accepted first so the widget sees 4404 (a refused handshake is only "1006") and
            # stops reconnecting to a channel that is gone.
            await websocket.accept()
            await websocket.close(code=4404, reason="no such web-chat channel")
            return
        if not origin_allowed(websocket.headers.get("origin"),
                              channel.config.get("allowed_origins", []), _ws_origin(websocket)):
            # Closing before accept makes the server answer the handshake with 403.
            await websocket.close(code=1008, reason="origin not allowed")
            return
        await websocket.accept()
        try:
            await _session(websocket, gateway, runtime, channel)
        except WebSocketDisconnect:
            return
        except _Close as exc:
            with contextlib.suppress(Exception):
                await websocket.close(code=exc.code, reason=exc.reason)
