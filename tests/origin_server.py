"""A file server on loopback standing in for an internal service or someone's media host."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

SECRET = b"internal metadata: do not leak"


@dataclass
class OriginServer:
    # Every request's path (with query), in order: what a fetch actually reached.
    seen: list[str] = field(default_factory=list)
    # Bytes /stream wrote before the reader went away (it never ends on its own).
    streamed: int = 0
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    url: str = ""
    port: int = 0
    _runner: web.AppRunner | None = None

    async def _file(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.path_qs)
        body, content_type = self.files.get(request.match_info["name"], (SECRET, "text/plain"))
        return web.Response(body=body, content_type=content_type.split(";")[0])

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.path_qs)
        raise web.HTTPFound(request.query["to"])

    async def _status(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.path_qs)
        return web.Response(status=int(request.match_info["code"]), text="no")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        """Chunked, no Content-Length, and endless: only a counting reader stops it."""
        self.seen.append(request.path_qs)
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b"x" * 65536
        while True:
            await response.write(chunk)
            self.streamed += len(chunk)

    async def _declared(self, request: web.Request) -> web.StreamResponse:
        """Declares a huge body and sends a little: a reader that trusts the length waits."""
        self.seen.append(request.path_qs)
        response = web.StreamResponse(headers={"Content-Length": str(10 ** 10)})
        await response.prepare(request)
        await response.write(b"y" * 1024)
        await asyncio.sleep(3600)
        return response

    async def _drip(self, request: web.Request) -> web.StreamResponse:
        """One byte now and then, each well within a read timeout, forever."""
        self.seen.append(request.path_qs)
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        while True:
            await response.write(b".")
            await asyncio.sleep(0.05)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/status/{code}", self._status)
        app.router.add_get("/stream", self._stream)
        app.router.add_get("/declared", self._declared)
        app.router.add_get("/drip", self._drip)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
