"""Storing, reading and expiring uploads; the caller's unit commits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.base import StoredUpload, UploadRefused
from router.models import Upload
from router.settings import Settings

# Expired rows deleted per clean-up: each store (and each download of an expired file) runs
# one, on the expires_at index, so deletion keeps ahead of uploads without a worker.
SWEEP_BATCH = 100


@dataclass(frozen=True, slots=True)
class UploadLimits:
    ttl: timedelta
    owner_files: int
    owner_bytes: int
    channel_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(ttl=timedelta(days=settings.upload_ttl_days),
                   owner_files=settings.upload_quota_files,
                   owner_bytes=settings.upload_quota_bytes,
                   channel_bytes=settings.upload_channel_bytes)


def to_stored(row: Upload, with_data: bool = True) -> StoredUpload:
    return StoredUpload(id=row.id, owner=row.owner, mime_type=row.mime_type,
                        filename=row.filename, size=row.size, created_at=row.created_at,
                        expires_at=row.expires_at, data=row.data if with_data else b"")


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Delete up to SWEEP_BATCH expired uploads, oldest expiry first; how many went."""
    ids = list(await session.scalars(
        select(Upload.id).where(Upload.expires_at <= now)
        .order_by(Upload.expires_at).limit(SWEEP_BATCH)))
    if ids:
        await session.execute(delete(Upload).where(Upload.id.in_(ids)))
    return len(ids)


async def store(session: AsyncSession, limits: UploadLimits, channel_id: str, owner: str,
                data: bytes, mime_type: str, filename: str | None,
                now: datetime) -> StoredUpload:
    """Keep one upload, refusing it past the owner's or the channel's quota."""
    await sweep(session, now)
    live = (Upload.channel_id == channel_id, Upload.expires_at > now)
    count, used = (await session.execute(
        select(func.count(), func.coalesce(func.sum(Upload.size), 0))
        .where(*live, Upload.owner == owner))).one()
    if count >= limits.owner_files:
        raise UploadRefused(f"at most {limits.owner_files} files are kept per visitor; older "
                            "ones expire after a while", scope="owner")
    if used + len(data) > limits.owner_bytes:
        raise UploadRefused(f"this file would take the visitor's uploads past "
                            f"{limits.owner_bytes} bytes", scope="owner")
    channel_used = await session.scalar(
        select(func.coalesce(func.sum(Upload.size), 0)).where(*live)) or 0
    if channel_used + len(data) > limits.channel_bytes:
        raise UploadRefused("this channel's upload storage is full", scope="channel")
    row = Upload(id="f_" + secrets.token_urlsafe(24), channel_id=channel_id, owner=owner,
                 mime_type=mime_type, filename=filename, size=len(data), data=data,
                 created_at=now, expires_at=now + limits.ttl)
    session.add(row)
    await session.flush()
    return to_stored(row, with_data=False)


async def find(session: AsyncSession, channel_id: str, upload_id: str) -> Upload | None:
    row = await session.get(Upload, upload_id)
    return row if row is not None and row.channel_id == channel_id else None
