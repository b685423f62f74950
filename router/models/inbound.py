"""Raw provider events, stored before they are acknowledged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from router.models.base import Base, BigId, UTCDateTime, utcnow


class InboundEvent(Base):
    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_event_id"),
        # Partial: an index on (state, id) keeps every processed row's old "received" entry
        # until VACUUM, and claims read them all (migration 0002 says more).
        Index("ix_inbound_events_received", "id", postgresql_where=text("state = 'received'"),
              sqlite_where=text("state = 'received'")),
        Index("ix_inbound_events_failed", "id", postgresql_where=text("state = 'failed'"),
              sqlite_where=text("state = 'failed'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    external_event_id: Mapped[str] = mapped_column(String(500))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
