"""The one way to fetch a URL someone else chose: checked, capped while streaming, closed.

Each fetch gets its own httpx client on the guarded network backend, and that client is closed
on every path: refused, unreachable, an error status, too large, too slow, read to the end, or
abandoned half-way by whoever was reading. Redirects are followed by hand, a bounded number of
hops, each hop's URL checked and its body never read.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from connectors.base import AttachmentStream
from connectors.fetch.errors import FetchFailed, FetchRefused, FetchTooLarge
from connectors.fetch.policy import SCHEMES, FetchPolicy

if TYPE_CHECKING:
    import ssl

    # httpx (with click and pygments from its CLI module) loads with the first fetch.
    import httpx

    from connectors.fetch.backend import Resolver

log = logging.getLogger("omniroute.fetch")
CHUNK_BYTES = 65_536
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 300.0
MAX_REDIRECTS = 5


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; one context serves every fetch.
    import httpx

    return httpx.create_ssl_context()


def check_url(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL with a host; FetchRefused for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchRefused("the URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise FetchRefused(f"only http and https URLs are fetched, not {scheme or 'this'}:")
    if not parts.hostname:
        raise FetchRefused("the URL has no host")
    return parts.hostname.lower(), port or (443 if scheme == "https" else 80)


class GuardedFetcher:
    """Fetches under `policy`; one per core (the operator's allow-list), shared by connectors."""

    def __init__(self, policy: FetchPolicy | None = None, *,
                 max_bytes: int = DEFAULT_MAX_BYTES,
                 timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                 resolver: Resolver | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds
        self.resolver = resolver
        # Clients opened and not yet closed: zero whenever no body is being read (a leak
        # shows here, and the tests hold every path to it).
        self.open_clients = 0

    async def open(self, url: str, *, mime_type: str | None = None,
                   filename: str | None = None, headers: Mapping[str, str] | None = None,
                   max_bytes: int | None = None,
                   trusted_origin: str | None = None) -> AttachmentStream:
        """Start a GET and hand back the body as chunks (closed at their end or by `close`).

        `trusted_origin` is a base URL the channel's admin configured (a self-hosted Bot API
        server): its host and port are reached even on an internal address, that one only."""
        import httpx

        from connectors.fetch.backend import GuardedBackend
        from connectors.fetch.transport import guarded_transport

        cap = self.max_bytes if max_bytes is None else min(max_bytes, self.max_bytes)
        check_url(url)
        trusted = check_url(trusted_origin) if trusted_origin else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_seconds
        backend = GuardedBackend(self.policy, self.resolver, trusted)
        client = httpx.AsyncClient(
            transport=guarded_transport(backend, _ssl_context()), trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(min(30.0, self.timeout_seconds),
                                  connect=min(10.0, self.timeout_seconds)))
        self.open_clients += 1
        closed = False

        async def close() -> None:
            nonlocal closed
            if not closed:
                closed = True
                self.open_clients -= 1
                await client.aclose()

        try:
            async with asyncio.timeout_at(deadline):
                response = await self._follow(client, url, headers)
            length = _declared_length(response)
            if length is not None and length > cap:
                raise FetchTooLarge(cap)
        except BaseException as exc:
            await close()
            if isinstance(exc, TimeoutError):
                raise FetchFailed("the remote server took too long to answer") from None
            if isinstance(exc, httpx.HTTPError):
                raise _failure(exc) from None
            raise

        async def chunks() -> AsyncIterator[bytes]:
            seen = 0
            body = response.aiter_bytes(CHUNK_BYTES)
            try:
                while True:
                    try:
                        async with asyncio.timeout_at(deadline):
                            chunk = await anext(body)
                    except StopAsyncIteration:
                        return
                    except TimeoutError:
                        raise FetchFailed("the remote server took too long to send the file")\
                            from None
                    except httpx.HTTPError as exc:
                        raise _failure(exc) from None
                    seen += len(chunk)
                    if seen > cap:
                        raise FetchTooLarge(cap)
                    yield chunk
            finally:
                await close()

        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            length = None  # httpx inflates it, so the declared length is not what we hand on
        return AttachmentStream(mime_type=mime_type or content_type or "application/octet-stream",
                                chunks=chunks(), size=length, filename=filename, close=close)

    async def read(self, url: str, *, max_bytes: int,
                   headers: Mapping[str, str] | None = None) -> tuple[str, bytes]:
        """(content type, body) of a small file, the cap enforced while it arrives."""
        stream = await self.open(url, headers=headers, max_bytes=max_bytes)
        parts: list[bytes] = []
        try:
            async for chunk in stream.chunks:
                parts.append(chunk)
        finally:
            await stream.aclose()
        return stream.mime_type, b"".join(parts)

    async def _follow(self, client: httpx.AsyncClient, url: str,
                      headers: Mapping[str, str] | None) -> httpx.Response:
        # identity: a compressed body would be counted only after it was inflated.
        request = client.build_request("GET", url, headers={"Accept-Encoding": "identity",
                                                            **(headers or {})})
        for _hop in range(MAX_REDIRECTS + 1):
            response = await client.send(request, stream=True)
            if response.next_request is None:
                if response.status_code >= 400:
                    await response.aclose()
                    raise FetchFailed(f"the remote server answered {response.status_code}",
                                      retryable=response.status_code >= 500
                                      or response.status_code == 429)
                return response
            await response.aclose()
            request = response.next_request
            check_url(str(request.url))
        raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def _declared_length(response: httpx.Response) -> int | None:
    length = response.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


def _failure(exc: httpx.HTTPError) -> FetchFailed | FetchRefused:
    import httpx

    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return FetchRefused(f"the URL cannot be fetched: {exc}")
    if isinstance(exc, httpx.TimeoutException):
        return FetchFailed("the remote server took too long to answer")
    if isinstance(exc, httpx.ConnectError):
        return FetchFailed(f"the remote server cannot be reached ({type(exc).__name__})")
    return FetchFailed(f"the remote server broke off the transfer ({type(exc).__name__})")
