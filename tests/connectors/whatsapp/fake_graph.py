"""A fake of Meta's Graph API on loopback (real HTTP), recording what the connector asked.

It answers the calls the WhatsApp connector makes: send a message, resolve a media id and
download it, list message templates (two pages), read the phone number. Tests queue errors
with `fail_next()` and may run a hook before a send is answered (a status webhook that
overtakes the send call).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.connectors.whatsapp.fixtures import (
    ACCESS_TOKEN,
    BUSINESS_ACCOUNT_ID,
    PHONE_NUMBER_ID,
)

VERSION = "v23.0"
MEDIA_BYTES = b"\xff\xd8\xff\xe0" + b"fake jpeg bytes " * 64

TEMPLATES = [
    {"name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
     "id": "594425479261596",
     "components": [{"type": "BODY", "text": "Your order {{1}} is on its way.",
                     "example": {"body_text": [["#1042"]]}}]},
    {"name": "we_miss_you", "language": "en_US", "status": "APPROVED", "category": "MARKETING",
     "id": "594425479261597",
     "components": [{"type": "BODY", "text": "It has been a while! Reply to chat with us."}]},
    {"name": "appointment_reminder", "language": "de", "status": "APPROVED",
     "category": "UTILITY", "id": "594425479261598",
     "components": [{"type": "BODY", "text": "Ihr Termin ist am {{1}}."}]},
]


def graph_error(code: int, message: str, details: str | None = None,
                type_: str = "OAuthException") -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code,
                             "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUv"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


@dataclass
class Failure:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: dict[str, Any] | None


class FakeGraph:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.sent: list[dict[str, Any]] = []
        # Answers to come, in order: a Failure, or None for "answer normally".
        self.failures: list[Failure | None] = []
        self.before_answer: Callable[[str], Awaitable[None]] | None = None
        self._counter = 0
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Where media URLs point (default: this fake's own /download).
        self.media_base: str | None = None

    def fail_next(self, status: int, body: dict[str, Any] | str,
                  headers: dict[str, str] | None = None, *, after: int = 0) -> None:
        """Refuse a coming call; `after` calls are answered normally first."""
        self.failures.extend([None] * after)
        self.failures.append(Failure(status, body, headers or {}))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{{phone}}/messages", self._messages)
        app.router.add_get(f"/{VERSION}/{{account}}/message_templates", self._templates)
        app.router.add_get("/download/{media_id}", self._download)
        app.router.add_get(f"/{VERSION}/{{object_id}}", self._object)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _record(self, request: web.Request) -> Call:
        raw = await request.read()
        call = Call(request.method, request.path, dict(request.query),
                    request.headers.get("Authorization"), json.loads(raw) if raw else None)
        self.calls.append(call)
        return call

    def _refusal(self, call: Call) -> web.Response | None:
        if call.authorization != f"Bearer {ACCESS_TOKEN}":
            return web.json_response(graph_error(190, "Invalid OAuth access token - Cannot "
                                                      "parse access token"), status=401)
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            if isinstance(failure.body, str):
                return web.Response(status=failure.status, text=failure.body,
                                    headers=failure.headers)
            return web.json_response(failure.body, status=failure.status,
                                     headers=failure.headers)
        return None

    async def _messages(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        refused = self._refusal(call)
        if refused is not None:
            return refused
        if request.match_info["phone"] != PHONE_NUMBER_ID:
            return web.json_response(graph_error(100, "Unsupported post request.",
                                                 type_="GraphMethodException"), status=400)
        assert call.body is not None
        self._counter += 1
        wamid = f"wamid.FAKE{self._counter:04d}"
        self.sent.append(call.body)
        if self.before_answer is not None:
            await self.before_answer(wamid)
        return web.json_response({
            "messaging_product": "whatsapp",
            "contacts": [{"input": call.body["to"], "wa_id": call.body["to"]}],
            "messages": [{"id": wamid}],
        })

    async def _object(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        refused = self._refusal(call)
        if refused is not None:
            return refused
        object_id = request.match_info["object_id"]
        if object_id == PHONE_NUMBER_ID:
            return web.json_response({"display_phone_number": "15550783881",
                                      "verified_name": "Lucky Shrub", "id": PHONE_NUMBER_ID})
        if object_id.isdigit() and len(object_id) == 16:
            return web.json_response({
                "messaging_product": "whatsapp",
                "url": f"{self.media_base or self.url + '/download'}/{object_id}",
                "mime_type": "image/jpeg", "sha256": "Q4wyzymk4Xk8HFBxqSTiCTNWvtGWrAq37XzdYqcS9Ow=",
                "file_size": len(MEDIA_BYTES), "id": object_id})
        return web.json_response(graph_error(100, f"Unsupported get request. Object with ID "
                                                  f"'{object_id}' does not exist",
                                             type_="GraphMethodException"), status=400)

    async def _download(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        if call.authorization != f"Bearer {ACCESS_TOKEN}":
            return web.Response(status=401, text="unauthorized")
        return web.Response(body=MEDIA_BYTES, content_type="image/jpeg")

    async def _templates(self, request: web.Request) -> web.Response:
        call = await self._record(request)
        refused = self._refusal(call)
        if refused is not None:
            return refused
        if request.match_info["account"] != BUSINESS_ACCOUNT_ID:
            return web.json_response(graph_error(100, "Unsupported get request.",
                                                 type_="GraphMethodException"), status=400)
        # Two pages: two templates, then one, the way Meta's cursors page them.
        if call.query.get("after") == "QVFIUk1":
            return web.json_response({"data": TEMPLATES[2:],
                                      "paging": {"cursors": {"before": "QVFIUk1",
                                                             "after": "QVFIUk2"}}})
        return web.json_response({
            "data": TEMPLATES[:2],
            "paging": {"cursors": {"before": "QVFIUk0", "after": "QVFIUk1"},
                       "next": f"{self.url}{request.path}?after=QVFIUk1"},
        })
