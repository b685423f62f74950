"""A file Telegram could not fetch itself, fetched by us through the guarded fetcher."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from aiogram.types import InputFile

from connectors.base import AttachmentStream, DeliveryError, OutboundAttachment

if TYPE_CHECKING:
    from aiogram import Bot

    from connectors.fetch import GuardedFetcher

# What bots may upload through the cloud Bot API (a local Bot API server allows more).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class FetchedInputFile(InputFile):
    """Streams an already opened fetch into the multipart upload.

    aiohttp reports a failure inside the body as a network error; `failure` keeps what really
    went wrong (too large, broken off) so the send is judged by it."""

    def __init__(self, stream: AttachmentStream, filename: str | None) -> None:
        super().__init__(filename=filename)
        self.stream = stream
        self.failure: DeliveryError | None = None

    async def read(self, bot: Bot) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in self.stream.chunks:
                yield chunk
        except DeliveryError as exc:
            self.failure = exc
            raise
        finally:
            await self.stream.aclose()


async def fetched(fetcher: GuardedFetcher, item: OutboundAttachment) -> FetchedInputFile:
    """Open the URL now, so a refused address or an error answer fails before the upload."""
    stream = await fetcher.open(item.url, mime_type=item.mime_type, filename=item.filename,
                                max_bytes=MAX_UPLOAD_BYTES)
    name = item.filename or item.url.split("?")[0].rstrip("/").rpartition("/")[2] or "file"
    return FetchedInputFile(stream, name)
