"""A fake Telegram Bot API server on loopback: aiogram talks real HTTP to it.

It records every call, serves getUpdates with Telegram's offset semantics (an update is
forgotten once a later call asks with a higher offset), hands out files through getFile and
/file/bot<token>/<path>, and can be told to fail the next calls of a method.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

BOT_ID = 7012345678
TOKEN = f"{BOT_ID}:AAHfakeTokenForTests_0123456789abcdef"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Acme Support",
            "username": "acme_support_bot"}
# Longest a getUpdates call is held open here, whatever timeout the client asked for.
LONG_POLL_CAP_SECONDS = 0.3


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[Failure]] = {}
        # (method, n): fail the n-th call of that method (1-based), counted over the server's life.
        self.nth_failures: dict[tuple[str, int], Failure] = {}
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        # Hosts Telegram "cannot fetch" (a private network): sending their URLs fails with 400.
        self.unfetchable_hosts: set[str] = set()
        self.webhook_url = ""
        self.url = ""
        self._next_message_id = 2000
        self._new_updates = asyncio.Event()
        self.held: dict[tuple[str, int], asyncio.Event] = {}
        self._runner: web.AppRunner | None = None

    # --- scripting -----------------------------------------------------------------------
    def fail(self, method: str, status: int, description: str,
             retry_after: int | None = None, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend(
            Failure(status, description, retry_after) for _ in range(times))

    def fail_nth(self, method: str, n: int, status: int, description: str) -> None:
        self.nth_failures[(method, n)] = Failure(status, description)

    def hold_nth(self, method: str, n: int) -> asyncio.Event:
        """Keep the n-th call of `method` unanswered until the returned event is set."""
        release = asyncio.Event()
        self.held[(method, n)] = release
        return release

    def push(self, *updates: dict[str, Any]) -> None:
        self.updates.extend(updates)
        self._new_updates.set()

    def add_file(self, file_id: str, path: str, content: bytes) -> None:
        self.files[file_id] = (path, content)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self) -> list[Call]:
        return [c for c in self.calls if c.method.startswith("send")
                and c.method != "sendChatAction"]

    # --- HTTP ----------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> Call:
        form = await request.post()
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            elif isinstance(value, str) and value[:1] in "[{":
                params[key] = json.loads(value)
            else:
                params[key] = value
        # Bot API: a parameter "attach://<name>" refers to the multipart part <name>.
        by_param = {key: files[value[9:]] for key, value in params.items()
                    if isinstance(value, str) and value.startswith("attach://")
                    and value[9:] in files}
        return Call(request.match_info["method"], params, by_param)

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        call = await self._params(request)
        self.calls.append(call)
        ordinal = (call.method, len(self.calls_to(call.method)))
        if ordinal in self.held:
            await self.held.pop(ordinal).wait()
        nth = self.nth_failures.pop(ordinal, None)
        if nth is not None:
            return _error(nth.status, nth.description)
        queued = self.failures.get(call.method)
        if queued:
            failure = queued.pop(0)
            return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, "_do_" + call.method, None)
        if handler is None:
            if call.method.startswith("send"):
                return self._send(call)
            return _error(404, "Not Found: method not found")
        result: web.Response = await handler(call)
        return result

    async def _do_getMe(self, call: Call) -> web.Response:
        return _ok(BOT_USER)

    async def _do_setWebhook(self, call: Call) -> web.Response:
        self.webhook_url = str(call.params["url"])
        return _ok(True)

    async def _do_deleteWebhook(self, call: Call) -> web.Response:
        self.webhook_url = ""
        return _ok(True)

    async def _do_answerCallbackQuery(self, call: Call) -> web.Response:
        return _ok(True)

    async def _do_sendChatAction(self, call: Call) -> web.Response:
        return _ok(True)

    async def _do_editMessageText(self, call: Call) -> web.Response:
        return _ok({"message_id": int(call.params["message_id"]), "from": BOT_USER,
                    "date": int(time.time()), "text": call.params["text"],
                    "chat": {"id": int(call.params["chat_id"]), "type": "private"}})

    async def _do_getUpdates(self, call: Call) -> web.Response:
        if self.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active;"
                               " use deleteWebhook to delete the webhook first")
        offset = int(call.params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_updates.clear()
            wait = min(float(call.params.get("timeout") or 0), LONG_POLL_CAP_SECONDS)
            try:
                await asyncio.wait_for(self._new_updates.wait(), wait)
            except TimeoutError:
                pass
        return _ok(self.updates[:100])

    async def _do_getFile(self, call: Call) -> web.Response:
        file_id = str(call.params["file_id"])
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return _ok({"file_id": file_id, "file_unique_id": "u-" + file_id[-8:],
                    "file_size": len(content), "file_path": path})

    def _send(self, call: Call) -> web.Response:
        for key in ("photo", "document", "video", "audio", "voice", "animation"):
            value = call.params.get(key)
            if isinstance(value, str) and urlsplit(value).hostname in self.unfetchable_hosts:
                return _error(400, "Bad Request: failed to get HTTP URL content")
        self._next_message_id += 1
        chat_id = int(call.params["chat_id"])
        message: dict[str, Any] = {
            "message_id": self._next_message_id, "from": BOT_USER, "date": int(time.time()),
            "chat": {"id": chat_id, "first_name": "Amelia", "type": "private"},
        }
        if "text" in call.params:
            message["text"] = call.params["text"]
        return _ok(message)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != TOKEN:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored_path, content in self.files.values():
            if stored_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return web.Response(status=404)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)
