"""httpx's own transport, its connection pool built on the guarded network backend."""

from __future__ import annotations

import ssl

import httpcore
import httpx

from connectors.fetch.backend import GuardedBackend


def guarded_transport(backend: GuardedBackend, context: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    """An AsyncHTTPTransport whose every connection goes through `backend`.

    httpx takes no network backend, so its pool is replaced by one built with httpcore's
    public API: request and response mapping and exception translation stay httpx's own.
    If httpx ever stops keeping its pool in `_pool`, the loopback refusal tests fail."""
    transport = httpx.AsyncHTTPTransport(verify=context, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=context, max_connections=4, max_keepalive_connections=0,
        network_backend=backend)
    return transport
