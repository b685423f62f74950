"""A fake bot on loopback: takes API-channel callbacks (replies) and answers 200 at once."""

from __future__ import annotations

import argparse
import time

from aiohttp import web


def build() -> web.Application:
    stats = {"count": 0, "first": 0.0, "last": 0.0}

    async def callback(request: web.Request) -> web.Response:
        await request.read()
        now = time.time()
        if stats["count"] == 0:
            stats["first"] = now
        stats["count"] += 1
        stats["last"] = now
        return web.json_response({})

    async def read_stats(_: web.Request) -> web.Response:
        return web.json_response(stats)

    async def reset(_: web.Request) -> web.Response:
        stats.update(count=0, first=0.0, last=0.0)
        return web.json_response(stats)

    async def bot_api(request: web.Request) -> web.Response:
        """A Bot API method call (setWebhook, sendMessage): Telegram's success shape."""
        await request.read()
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/cb", callback)
    app.router.add_get("/stats", read_stats)
    app.router.add_post("/reset", reset)
    app.router.add_post("/{path:bot.*}", bot_api)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(build(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
