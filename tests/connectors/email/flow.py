"""Helpers for end-to-end e-mail tests against a running omniroute."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx

from tests.connectors.email.fixtures import fixture_bytes
from tests.connectors.email.smtp_server import SmtpServer
from tests.omni import OmniServer

ADDRESS = "support@acme.example"


def restamp(raw: bytes, **headers: str) -> bytes:
    """A fixture with some headers replaced (Date → now unless given), the rest byte-exact.

    Keyword names use underscores for dashes: In_Reply_To="<…>".
    """
    head, sep, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw \
        else raw.partition(b"\r\n\r\n")
    values = {"Date": format_datetime(datetime.now(UTC)),
              **{k.replace("_", "-"): v for k, v in headers.items()}}
    for name, value in values.items():
        pattern = re.compile(rb"^" + re.escape(name.encode()) + rb":.*(\r?\n[ \t].*)*$",
                             re.IGNORECASE | re.MULTILINE)
        line = f"{name}: {value}".encode()
        head, count = pattern.subn(line.replace(b"\\", b"\\\\"), head, count=1)
        if count == 0:
            head = head + (b"\r\n" if b"\r\n" in head else b"\n") + line
    return head + sep + body


def fixture(name: str, **headers: str) -> bytes:
    return restamp(fixture_bytes(name), **headers)


async def email_channel(omni: OmniServer, server: SmtpServer, **extra: Any) -> dict[str, Any]:
    config = {"address": ADDRESS, "display_name": "Acme Support",
              "smtp": server.config(), "authserv_id": "mx.acme.example",
              "ack_template": "We got your mail and answer within {response_time}.",
              "ack_response_time": "4 hours", **extra}
    return await omni.create_channel("email", "Support mail", config)


async def post_mail(omni: OmniServer, channel: dict[str, Any], raw: bytes,
                    secret: str | None = None,
                    content_type: str = "message/rfc822") -> httpx.Response:
    token = secret if secret is not None else channel["generated_secrets"]["inbound_secret"]
    return await omni.client.post(
        f"/webhooks/email/{channel['id']}", content=raw,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})


async def deliver(omni: OmniServer, channel: dict[str, Any], raw: bytes) -> None:
    response = await post_mail(omni, channel, raw)
    assert response.status_code == 200, response.text
    await omni.settle()


async def customer(omni: OmniServer, address: str) -> dict[str, Any]:
    found = (await omni.client.get("/v1/customers", params={"q": address})).json()["items"]
    assert len(found) == 1, found
    result: dict[str, Any] = found[0]
    return result


async def thread_of(omni: OmniServer, address: str) -> dict[str, Any]:
    who = await customer(omni, address)
    threads = (await omni.client.get("/v1/threads", params={"customer_id": who["id"]})).json()
    assert len(threads["items"]) == 1
    result: dict[str, Any] = threads["items"][0]
    return result


async def messages(omni: OmniServer, thread_id: int) -> list[dict[str, Any]]:
    page = (await omni.client.get(f"/v1/threads/{thread_id}/messages")).json()
    items: list[dict[str, Any]] = page["items"]
    return items


def token_of(reply_to: str) -> str:
    found = re.search(r"\+t([A-Za-z0-9_-]+)@", reply_to)
    assert found, reply_to
    return found.group(1)


def by_external_id(stored: list[dict[str, Any]], external_id: str) -> dict[str, Any]:
    (found,) = [m for m in stored if m["external_id"] == external_id]
    return found
