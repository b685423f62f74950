"""A bot's callback server on loopback: records deliveries, checks their signature."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from connectors.api.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, check


@dataclass
class CallbackServer:
    secret: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    # Status codes to answer with, in order, before answering 200.
    script: list[int] = field(default_factory=list)
    url: str = ""
    # Seconds each accepted delivery takes to answer (keeps some sends in flight).
    delay: float = 0.0
    # 0: any free port; a restarted server passes its old one (a provider back at its address).
    port: int = 0
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        problem = check(self.secret, request.headers.get(TIMESTAMP_HEADER),
                        request.headers.get(SIGNATURE_HEADER), body)
        if problem is not None:
            self.bad_signatures += 1
            return web.json_response({"error": problem}, status=401)
        if self.script:
            status = self.script.pop(0)
            headers = {"Retry-After": "0"} if status == 429 else {}
            return web.json_response({"error": "scripted"}, status=status, headers=headers)
        payload = json.loads(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(payload)
        return web.json_response({"external_message_id": f"bot-{payload['message_id']}"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/callback", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{self.port}/callback"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
