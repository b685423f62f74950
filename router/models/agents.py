"""Agents (the people who answer), teams (lines of support) and who belongs to which."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from router.models.base import Base, BigId, Json, UTCDateTime, utcnow


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        Index("ix_agents_presence", "presence", "id"),
        Index("ix_agents_offline_due", "offline_due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="agent")
    # online / away / offline; stored here so every replica sees the same presence.
    presence: Mapped[str] = mapped_column(String(16), default="offline")
    presence_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the agent goes offline unless a live stream opens first (their last one closed,
    # or they said "online" with none open): every replica fires it, none sweeps all agents.
    offline_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {"default": N, "<channel type>": N}: open cases this agent may hold at once.
    capacity: Mapped[dict[str, int]] = mapped_column(Json, default=dict)
    skills: Mapped[list[str]] = mapped_column(Json, default=list)
    # When this agent was last given a case: ties in least-loaded go to the longest idle.
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AgentStream(Base):
    """An agent's live streams (SSE / WebSocket) held by one replica, refreshed by its beat."""

    __tablename__ = "agent_streams"
    __table_args__ = (Index("ix_agent_streams_agent", "agent_id", "beat_at"),
                      Index("ix_agent_streams_beat", "beat_at"))

    replica: Mapped[str] = mapped_column(String(32), primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"), primary_key=True)
    streams: Mapped[int] = mapped_column(Integer, default=1)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Team(Base):
    __tablename__ = "teams"
    # A deleted team keeps its row (its cases still report under it) and frees its name.
    __table_args__ = (Index("uq_teams_live_name", "name", unique=True,
                            sqlite_where=text("deleted_at IS NULL"),
                            postgresql_where=text("deleted_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    # Line of support: 1 takes everything, 2 the specialists and complaints, ...
    line: Mapped[int] = mapped_column(Integer, default=1)
    strategy: Mapped[str] = mapped_column(String(16), default="round_robin")
    sticky: Mapped[bool] = mapped_column(Boolean, default=False)
    # Plain ids (no foreign key): calendars and policies live in the SLA domain's tables.
    business_hours_id: Mapped[int | None] = mapped_column(BigId)
    sla_policy_id: Mapped[int | None] = mapped_column(BigId)
    overflow_team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"))
    overflow_after_seconds: Mapped[int | None] = mapped_column(Integer)
    # What happens to an agent's open cases when they go offline: kept, or back to the queue.
    release_on_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    # Round robin: the member who got the last case (the next one goes to the one after).
    last_agent_id: Mapped[int | None] = mapped_column(BigId)
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (Index("ix_team_members_agent", "agent_id"),)

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id"), primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
