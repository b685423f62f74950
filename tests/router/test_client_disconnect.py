"""A client that hangs up mid-request is nobody's error: no 500, no traceback in the log."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import ClientDisconnect

from router.problems import install
from tests.omni import OmniServer


async def test_a_client_disconnect_is_answered_quietly(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    install(app)

    @app.post("/upload")
    async def upload() -> None:
        raise ClientDisconnect()

    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        response = await client.post("/upload", content=b"x")
    assert response.status_code == 499
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_webhook_left_half_sent_logs_no_error(
        omni: OmniServer, caplog: pytest.LogCaptureFixture) -> None:
    created = await omni.create_channel("api", "bot", {})
    address = urlsplit(omni.url)
    caplog.set_level(logging.INFO)
    _reader, writer = await asyncio.open_connection(address.hostname, address.port)
    # The body is announced as 1,000 bytes; ten arrive, then the client is gone (as wrk
    # leaves its requests when it stops).
    writer.write((f"POST /v1/channels/{created['id']}/inbound HTTP/1.1\r\n"
                  f"Host: {address.netloc}\r\nContent-Type: application/json\r\n"
                  "Content-Length: 1000\r\n\r\n{\"text\": \"").encode())
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.5)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert (await omni.client.get("/healthz")).status_code == 200
