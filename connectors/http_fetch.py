"""Streaming a remote file to an agent without buffering it whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from connectors.base import AttachmentStream, DeliveryError

if TYPE_CHECKING:
    # httpx (with click and pygments from its CLI module) loads with the first download.
    import httpx


async def stream_url(
    url: str,
    mime_type: str | None,
    filename: str | None,
    headers: dict[str, str] | None = None,
    client: httpx.AsyncClient | None = None,
) -> AttachmentStream:
    """Open `url` and hand back its body as chunks; the client closes when the body ends."""
    import httpx

    own = client is None
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))
    request = http.build_request("GET", url, headers=headers)
    response = await http.send(request, stream=True)
    if response.status_code >= 400:
        await response.aclose()
        if own:
            await http.aclose()
        raise DeliveryError(f"provider answered {response.status_code} for the file",
                            retryable=response.status_code >= 500)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes(65536):
                yield chunk
        finally:
            await response.aclose()
            if own:
                await http.aclose()

    length = response.headers.get("content-length")
    return AttachmentStream(
        mime_type=mime_type or response.headers.get("content-type", "application/octet-stream"),
        chunks=chunks(),
        size=int(length) if length and length.isdigit() else None,
        filename=filename,
    )
