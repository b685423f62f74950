"""Exactly one thread per customer, and the messages in it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from router.models.base import Base, BigId, Json, UTCDateTime, utcnow


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_activity", "last_message_at", "id"),
        Index("ix_threads_status_activity", "status", "last_message_at", "id"),
        Index("ix_threads_assignee_activity", "assignee", "last_message_at", "id"),
        Index("ix_threads_team_activity", "team_id", "last_message_at", "id"),
        Index("ix_threads_assignee_id_activity", "assignee_id", "last_message_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    # The case in progress (or the last one, once resolved).
    case_id: Mapped[int | None] = mapped_column(BigId)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_inbound_channel_id: Mapped[str | None] = mapped_column(String(32))
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the owning customer is merged away; such threads leave the lists.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_messages_thread_order", "thread_id", "sent_at", "id"),
        Index("ix_messages_identity", "identity_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("threads.id"))
    direction: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    identity_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("identities.id"))
    external_id: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_event_id: Mapped[int | None] = mapped_column(BigId)
    reply_to_message_id: Mapped[int | None] = mapped_column(BigId)
    edits: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)


class MessageAlias(Base):
    """Further provider ids of one message (a long reply split into several parts)."""

    __tablename__ = "message_aliases"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id"), index=True)


class EarlyStatus(Base):
    """A delivery status that arrived before the send call returned our message's id."""

    __tablename__ = "early_statuses"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
