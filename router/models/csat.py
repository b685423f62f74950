"""Customer satisfaction: one survey per case, and at most one answer per case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from router.models.base import Base, BigId, UTCDateTime, utcnow


class CsatSurvey(Base):
    """The survey of one case: scheduled, sent, skipped (and why) or answered."""

    __tablename__ = "csat_surveys"
    __table_args__ = (Index("ix_csat_surveys_due", "status", "due_at"),)

    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("threads.id"))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    # scheduled / sent / skipped / answered / failed
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CsatResponse(Base):
    """A 1-5 score of one case, with who and what it rates (kept even if the case moves on)."""

    __tablename__ = "csat_responses"
    __table_args__ = (
        Index("ix_csat_responses_created", "created_at", "id"),
        Index("ix_csat_responses_agent", "agent_id", "created_at"),
        Index("ix_csat_responses_team", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id"), unique=True)
    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("threads.id"))
    customer_id: Mapped[int] = mapped_column(BigId)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    channel_type: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[int | None] = mapped_column(BigId)
    team_id: Mapped[int | None] = mapped_column(BigId)
    experiment_id: Mapped[int | None] = mapped_column(BigId)
    experiment_bucket: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    commented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrendSpike(Base):
    """A tag's spike in one period, raised once across replicas (the insert that wins)."""

    __tablename__ = "trend_spikes"

    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    baseline: Mapped[float] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
