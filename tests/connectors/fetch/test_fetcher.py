"""The guarded fetcher against a real loopback server: what it reaches, refuses and closes."""

from __future__ import annotations

import asyncio

import pytest

from connectors.fetch import (
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    FetchTooLarge,
    GuardedFetcher,
)
from tests.omni import free_socket
from tests.origin_server import SECRET, OriginServer


def fake_dns(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return answers.get(host, [host])
    return resolve


async def body_of(fetcher: GuardedFetcher, url: str, **options: object) -> bytes:
    stream = await fetcher.open(url, **options)  # type: ignore[arg-type]
    return b"".join([chunk async for chunk in stream.chunks])


async def test_a_loopback_server_is_refused_and_never_reached(origin: OriginServer) -> None:
    fetcher = GuardedFetcher()
    with pytest.raises(FetchRefused, match="loopback"):
        await fetcher.open(f"{origin.url}/files/meta")
    assert origin.seen == []
    assert fetcher.open_clients == 0


async def test_the_allow_list_lets_self_hosted_media_through(origin: OriginServer) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    assert await body_of(fetcher, f"{origin.url}/files/meta") == SECRET
    assert fetcher.open_clients == 0


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "::ffff:127.0.0.1",
                                     "10.0.0.7", "::1", "64:ff9b::7f00:1", "0.0.0.0"])
async def test_a_public_looking_name_for_an_internal_address_is_refused(
        origin: OriginServer, address: str) -> None:
    fetcher = GuardedFetcher(resolver=fake_dns({"cdn.example.com": [address]}))
    with pytest.raises(FetchRefused, match=r"cdn\.example\.com"):
        await fetcher.open(f"http://cdn.example.com:{origin.port}/files/meta")
    assert origin.seen == []
    assert fetcher.open_clients == 0


async def test_a_name_with_one_public_and_one_internal_address_is_refused(
        origin: OriginServer) -> None:
    fetcher = GuardedFetcher(resolver=fake_dns({"rebind.example": ["93.184.216.34",
                                                                   "127.0.0.1"]}))
    with pytest.raises(FetchRefused, match="loopback"):
        await fetcher.open(f"http://rebind.example:{origin.port}/files/meta")
    assert origin.seen == []


async def test_the_address_checked_is_the_address_connected_to(origin: OriginServer) -> None:
    # An allow-listed name reaches the address the resolver gave for it, nothing else.
    fetcher = GuardedFetcher(FetchPolicy.parse("media.example"),
                             resolver=fake_dns({"media.example": ["127.0.0.1"]}))
    assert await body_of(fetcher, f"http://media.example:{origin.port}/files/meta") == SECRET
    assert origin.seen == ["/files/meta"]


async def test_a_redirect_from_an_allowed_host_to_a_forbidden_one_is_refused(
        origin: OriginServer) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("media.example"),
                             resolver=fake_dns({"media.example": ["127.0.0.1"]}))
    target = f"http://127.0.0.1:{origin.port}/files/meta"
    with pytest.raises(FetchRefused, match="loopback"):
        await fetcher.open(f"http://media.example:{origin.port}/redirect?to={target}")
    assert origin.seen == [f"/redirect?to={target}"]
    assert fetcher.open_clients == 0


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:70/x"])
async def test_a_redirect_to_another_scheme_is_refused(origin: OriginServer,
                                                       target: str) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    with pytest.raises(FetchRefused):
        await fetcher.open(f"{origin.url}/redirect?to={target}")
    assert fetcher.open_clients == 0


async def test_redirects_are_followed_a_bounded_number_of_times(origin: OriginServer) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    hop = f"{origin.url}/files/meta"
    assert await body_of(fetcher, f"{origin.url}/redirect?to={hop}") == SECRET
    for _ in range(6):
        hop = f"{origin.url}/redirect?to={hop}"
    with pytest.raises(FetchRefused, match="redirects"):
        await fetcher.open(hop)
    assert fetcher.open_clients == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x",
                                 "data:text/plain,hi", "http:///nohost", "http://[::1"])
async def test_only_http_urls_with_a_host_are_fetched(url: str) -> None:
    fetcher = GuardedFetcher()
    with pytest.raises(FetchRefused):
        await fetcher.open(url)
    assert fetcher.open_clients == 0


async def test_a_body_over_the_cap_is_stopped_while_streaming(origin: OriginServer) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    stream = await fetcher.open(f"{origin.url}/stream", max_bytes=1_000_000)
    received = 0
    # The body never ends: only counting while it streams can stop it (the guard turns a
    # hang into a failure; nothing is asserted about time).
    async with asyncio.timeout(60):
        with pytest.raises(FetchTooLarge):
            async for chunk in stream.chunks:
                received += len(chunk)
    assert received <= 1_000_000
    assert fetcher.open_clients == 0


async def test_a_declared_length_over_the_cap_is_refused_before_reading(
        origin: OriginServer) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"), max_bytes=5_000_000)
    async with asyncio.timeout(60):
        with pytest.raises(FetchTooLarge, match="5000000"):
            await fetcher.open(f"{origin.url}/declared")
    assert fetcher.open_clients == 0


async def test_a_body_that_never_finishes_hits_the_time_cap(origin: OriginServer) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"), timeout_seconds=0.5)
    stream = await fetcher.open(f"{origin.url}/drip")
    async with asyncio.timeout(60):
        with pytest.raises(FetchFailed, match="too long"):
            async for _chunk in stream.chunks:
                pass
    assert fetcher.open_clients == 0


async def test_a_connect_error_is_a_retryable_failure_and_closes_the_client() -> None:
    sock = free_socket()  # bound, never listening: connections are refused
    port = sock.getsockname()[1]
    sock.close()
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    with pytest.raises(FetchFailed, match="cannot be reached") as caught:
        await fetcher.open(f"http://127.0.0.1:{port}/x")
    assert caught.value.retryable is True
    assert fetcher.open_clients == 0


@pytest.mark.parametrize("code, retryable", [(404, False), (403, False), (503, True)])
async def test_an_error_status_is_a_failure(origin: OriginServer, code: int,
                                            retryable: bool) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    with pytest.raises(FetchFailed, match=str(code)) as caught:
        await fetcher.open(f"{origin.url}/status/{code}")
    assert caught.value.retryable is retryable
    assert fetcher.open_clients == 0


async def test_a_body_abandoned_half_way_closes_the_client(origin: OriginServer) -> None:
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    stream = await fetcher.open(f"{origin.url}/stream")
    assert fetcher.open_clients == 1
    first = await anext(stream.chunks)
    assert first
    await stream.aclose()
    await stream.aclose()
    assert fetcher.open_clients == 0


async def test_a_trusted_origin_is_that_host_and_port_only(origin: OriginServer) -> None:
    fetcher = GuardedFetcher()
    assert await body_of(fetcher, f"{origin.url}/files/meta",
                         trusted_origin=origin.url) == SECRET
    with pytest.raises(FetchRefused):
        await fetcher.open(f"{origin.url}/files/meta", trusted_origin="http://127.0.0.1:1")
    target = f"http://localhost:{origin.port}/files/meta"
    with pytest.raises(FetchRefused):
        await fetcher.open(f"{origin.url}/redirect?to={target}", trusted_origin=origin.url)
    assert fetcher.open_clients == 0


async def test_read_enforces_its_own_cap(origin: OriginServer) -> None:
    origin.files["big"] = (b"z" * 300_000, "application/pdf")
    fetcher = GuardedFetcher(FetchPolicy.parse("127.0.0.1"))
    assert await fetcher.read(f"{origin.url}/files/big", max_bytes=300_000) == (
        "application/pdf", b"z" * 300_000)
    with pytest.raises(FetchTooLarge):
        await fetcher.read(f"{origin.url}/files/big", max_bytes=299_999)
    assert fetcher.open_clients == 0
