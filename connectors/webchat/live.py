"""The visitors' open WebSockets in this process, so `send()` can push a reply live."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from starlette.websockets import WebSocket


class VisitorSocket:
    """One open widget connection; sends are serialised (replies and acks may race)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()
        # When this socket last passed a visitor's typing on to the agents (monotonic).
        self.typing_at = float("-inf")

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            await self.websocket.send_text(orjson.dumps(frame).decode())


class LiveVisitors:
    def __init__(self) -> None:
        self._sockets: dict[tuple[str, str], set[VisitorSocket]] = {}

    def add(self, channel_id: str, visitor_id: str, socket: VisitorSocket) -> None:
        self._sockets.setdefault((channel_id, visitor_id), set()).add(socket)

    def remove(self, channel_id: str, visitor_id: str, socket: VisitorSocket) -> None:
        key = (channel_id, visitor_id)
        sockets = self._sockets.get(key)
        if sockets is None:
            return
        sockets.discard(socket)
        if not sockets:
            del self._sockets[key]

    def connected(self, channel_id: str, visitor_id: str) -> bool:
        return bool(self._sockets.get((channel_id, visitor_id)))

    async def push(self, channel_id: str, visitor_id: str, frame: dict[str, Any],
                   exclude: VisitorSocket | None = None) -> int:
        """Send `frame` to every tab the visitor has open; how many took it."""
        delivered = 0
        for socket in list(self._sockets.get((channel_id, visitor_id), ())):
            if socket is exclude:
                continue
            try:
                await socket.send(frame)
            except Exception:
                # A tab that went away mid-send: forget it, the others still count.
                self.remove(channel_id, visitor_id, socket)
                with contextlib.suppress(Exception):
                    await socket.websocket.close()
                continue
            delivered += 1
        return delivered

    async def close_channel(self, channel_id: str, code: int, reason: str) -> int:
        """Close every visitor socket of a channel (it was deleted); how many were open."""
        closed = 0
        for (channel, visitor_id), sockets in list(self._sockets.items()):
            if channel != channel_id:
                continue
            for socket in list(sockets):
                self.remove(channel, visitor_id, socket)
                with contextlib.suppress(Exception):
                    await socket.websocket.close(code=code, reason=reason)
                closed += 1
        return closed
