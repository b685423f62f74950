"""Files channel users upload to us (web-chat visitors), kept until they expire."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from router.models.base import Base, UTCDateTime, utcnow


class Upload(Base):
    """One upload; `owner` is the uploader's external user id (the visitor)."""

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_channel_owner", "channel_id", "owner"),)

    # "f_" + 32 random URL-safe characters: the id is the capability to download it.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    owner: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
