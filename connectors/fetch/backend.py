"""httpcore's network backend with the address check in the one place a socket is opened.

httpcore asks the backend for a TCP connection by host name; this backend resolves the name,
refuses the connection if any address is not allowed, and connects to the checked address
itself. So there is no gap between checking and connecting for DNS rebinding to use, every
redirect hop (a new connection) is checked the same way, and TLS still verifies the
certificate against the host name (httpcore passes it as server_hostname after connecting).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

from httpcore import (
    SOCKET_OPTION,
    AnyIOBackend,
    AsyncNetworkBackend,
    AsyncNetworkStream,
    ConnectError,
)

from connectors.fetch.errors import FetchRefused
from connectors.fetch.policy import FetchPolicy

# (host, port) → the addresses to try, in order (tests replace it to fake DNS).
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """The system resolver's addresses for `host`, duplicates dropped, order kept."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    found: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


class GuardedBackend(AsyncNetworkBackend):
    """Connects only to addresses `policy` allows; `trusted` (host, port) skips the check."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver | None = None,
                 trusted: tuple[str, int] | None = None) -> None:
        self.policy = policy
        self.resolver = resolver or resolve
        self.trusted = trusted
        self._inner = AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        addresses = await self._checked_addresses(host, port, timeout)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (ConnectError, OSError) as exc:
                last = exc
        raise ConnectError(f"could not connect to {host}:{port}: {last}")

    async def _checked_addresses(self, host: str, port: int,
                                 timeout: float | None) -> list[str]:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.resolver(host, port)
        except TimeoutError:
            raise ConnectError(f"resolving {host} timed out") from None
        except OSError as exc:
            raise ConnectError(f"{host} does not resolve: {exc}") from None
        if not addresses:
            raise ConnectError(f"{host} does not resolve")
        if self.policy.host_allowed(host) or self.trusted == (host.lower(), port):
            return addresses
        for address in addresses:
            # A rebinding name may hand out one public and one internal address: refusing
            # the whole name is clearer than quietly picking the public one.
            why = self.policy.address_refusal(ipaddress.ip_address(address))
            if why is not None:
                shown = host if host == address else f"{host} ({address})"
                raise FetchRefused(f"{shown} is a {why} address; this service does not fetch "
                                   "from internal networks (see OMNIROUTE_FETCH_ALLOW_HOSTS)")
        return addresses

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        raise FetchRefused("fetches never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
