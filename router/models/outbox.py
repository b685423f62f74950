"""Deliveries waiting for, or done by, the outbox worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from router.models.base import Base, BigId, UTCDateTime, utcnow


class OutboxItem(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_thread", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id"), unique=True)
    thread_id: Mapped[int] = mapped_column(BigId)
    channel_id: Mapped[str] = mapped_column(String(32))
    # pending → done | dead
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The agent left the channel to us: on a closed window or an unreachable recipient, fall
    # back to the customer's next reachable channel.
    auto_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    # Channels already tried for this message (fallback never loops).
    tried_channels: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The request that queued the reply: the sender's log lines carry it too.
    request_id: Mapped[str | None] = mapped_column(String(64))
