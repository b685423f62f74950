"""GET /v1/attachments/{id}: fetched only through the guarded fetcher, served so it is harmless."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.fetch import backend
from tests.apichannel import inbound, post_inbound
from tests.conftest import MakeOmni
from tests.omni import OmniServer, free_socket, messages, only_thread
from tests.origin_server import SECRET, OriginServer


async def bot_sends(omni: OmniServer, *attachments: dict[str, Any]) -> list[str]:
    """An API-channel bot stores a message carrying `attachments`; their download ids."""
    channel = await omni.create_channel("api", "bot", {})
    secret = channel["generated_secrets"]["secret"]
    posted = await post_inbound(omni.client, channel["id"], secret,
                                inbound("u-1", "m-1", "see attached",
                                        attachments=list(attachments)))
    assert posted.status_code == 202, posted.text
    await omni.settle()
    [message] = await messages(omni, (await only_thread(omni))["id"])
    return [a["id"] for a in message["attachments"]]


def fetcher_clients(omni: OmniServer) -> int:
    return omni.core.gateway.fetcher.open_clients


async def test_a_bots_loopback_url_is_refused_and_never_fetched(
        omni: OmniServer, origin: OriginServer) -> None:
    [attachment] = await bot_sends(omni, {"url": f"{origin.url}/files/meta"})
    response = await omni.client.get(f"/v1/attachments/{attachment}")
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/fetch-refused")
    assert "loopback" in response.json()["detail"]
    assert SECRET not in response.content
    assert origin.seen == []
    assert fetcher_clients(omni) == 0


async def test_the_allow_list_setting_permits_self_hosted_media(
        make_omni: MakeOmni, origin: OriginServer) -> None:
    omni = await make_omni(fetch_allow_hosts="127.0.0.1")
    [attachment] = await bot_sends(omni, {"url": f"{origin.url}/files/meta"})
    response = await omni.client.get(f"/v1/attachments/{attachment}")
    assert response.status_code == 200, response.text
    assert response.content == SECRET
    assert fetcher_clients(omni) == 0


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "::ffff:127.0.0.1"])
async def test_a_public_name_resolving_inside_is_refused(
        omni: OmniServer, origin: OriginServer, monkeypatch: pytest.MonkeyPatch,
        address: str) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return [address] if host == "cdn.example.com" else [host]

    monkeypatch.setattr(backend, "resolve", resolve)
    [attachment] = await bot_sends(
        omni, {"url": f"http://cdn.example.com:{origin.port}/files/meta"})
    response = await omni.client.get(f"/v1/attachments/{attachment}")
    assert response.status_code == 403, response.text
    assert address in response.json()["detail"]
    assert origin.seen == []


async def test_a_redirect_to_an_internal_host_is_refused(
        make_omni: MakeOmni, origin: OriginServer, monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "media.example" else [host]

    monkeypatch.setattr(backend, "resolve", resolve)
    omni = await make_omni(fetch_allow_hosts="media.example")
    inside = f"http://127.0.0.1:{origin.port}/files/meta"
    [attachment] = await bot_sends(
        omni, {"url": f"http://media.example:{origin.port}/redirect?to={inside}"})
    response = await omni.client.get(f"/v1/attachments/{attachment}")
    assert response.status_code == 403, response.text
    assert origin.seen == [f"/redirect?to={inside}"]


async def test_an_unreachable_url_is_a_502_problem_and_the_client_is_closed(
        make_omni: MakeOmni) -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    omni = await make_omni(fetch_allow_hosts="127.0.0.1")
    [attachment] = await bot_sends(omni, {"url": f"http://127.0.0.1:{port}/gone.pdf"})
    response = await omni.client.get(f"/v1/attachments/{attachment}")
    assert response.status_code == 502, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert fetcher_clients(omni) == 0


async def test_a_download_broken_off_by_the_agent_closes_the_client(
        make_omni: MakeOmni, origin: OriginServer) -> None:
    omni = await make_omni(fetch_allow_hosts="127.0.0.1")
    [attachment] = await bot_sends(omni, {"url": f"{origin.url}/stream"})
    async with omni.client.stream("GET", f"/v1/attachments/{attachment}") as response:
        assert response.status_code == 200
        async for _chunk in response.aiter_raw():
            break

    async def closed() -> bool:
        return fetcher_clients(omni) == 0

    await omni.wait_for(closed)


HOSTILE_NAMES = [
    ('invoice".html; filename=evil.exe', 'attachment; filename="invoice.html; filename=evil.exe"'
     "; filename*=UTF-8''invoice%22.html%3B%20filename%3Devil.exe"),
    ("report\r\nSet-Cookie: session=stolen.pdf",
     'attachment; filename="reportSet-Cookie: session=stolen.pdf"'),
    ("Отчёт.pdf", "attachment; filename=\"_____.pdf\"; "
     "filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82.pdf"),
    ("..\\..\\boot.ini", 'attachment; filename="_.._boot.ini"'),
]


@pytest.mark.parametrize("filename, disposition", HOSTILE_NAMES)
async def test_hostile_filenames_cannot_break_the_header(
        make_omni: MakeOmni, origin: OriginServer, filename: str, disposition: str) -> None:
    origin.files["doc"] = (b"%PDF-1.7", "application/pdf")
    omni = await make_omni(fetch_allow_hosts="127.0.0.1")
    [attachment] = await bot_sends(omni, {"url": f"{origin.url}/files/doc",
                                          "mime_type": "application/pdf",
                                          "filename": filename})
    response = await omni.client.get(f"/v1/attachments/{attachment}")
    assert response.status_code == 200, response.text
    assert response.content == b"%PDF-1.7"
    assert response.headers["content-disposition"] == disposition
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("declared, served, disposition", [
    ("text/html", "application/octet-stream", "attachment"),
    ("image/svg+xml", "application/octet-stream", "attachment"),
    ("application/javascript", "application/octet-stream", "attachment"),
    ("text/html\r\nX-Injected: 1", "application/octet-stream", "attachment"),
    ("image/png", "image/png", "inline"),
    ("IMAGE/JPEG; charset=x", "image/jpeg", "inline"),
    ("image/webp", "image/webp", "inline"),
])
async def test_only_plain_images_are_inline_and_nothing_is_sniffed(
        make_omni: MakeOmni, origin: OriginServer, declared: str, served: str,
        disposition: str) -> None:
    origin.files["page"] = (b"<script>alert(document.cookie)</script>", "text/html")
    omni = await make_omni(fetch_allow_hosts="127.0.0.1")
    [attachment] = await bot_sends(omni, {"url": f"{origin.url}/files/page",
                                          "mime_type": declared, "filename": "x"})
    response = await omni.client.get(f"/v1/attachments/{attachment}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == served
    assert response.headers["content-disposition"] == f'{disposition}; filename="x"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert "x-injected" not in response.headers
