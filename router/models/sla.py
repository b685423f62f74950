"""Business-hours calendars, SLA policies and SLA experiments (A/B buckets of policies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import false, text

from router.models.base import Base, BigId, Json, UTCDateTime, utcnow


class BusinessHours(Base):
    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))  # IANA, e.g. "Europe/Moscow"
    # {"mon": [["09:00", "13:00"], ["14:00", "18:00"]], ...}; a missing day is closed.
    weekly: Mapped[dict[str, list[list[str]]]] = mapped_column(Json, default=dict)
    holidays: Mapped[list[str]] = mapped_column(Json, default=list)  # "YYYY-MM-DD"
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    business_hours_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("business_hours.id"))
    # [{channel_type?, priority?, first_response_seconds?, next_response_seconds?,
    #   resolution_seconds?}]: the most specific target wins.
    targets: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    warn_before_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # The policy of cases that no rule, team or experiment gave one (at most one is flagged).
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    on_breach: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Experiment(Base):
    """An SLA A/B experiment: new matching cases split at random into weighted buckets."""

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft/running/stopped
    filter: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # [{"name", "weight", "sla_policy_id"}]
    buckets: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SlaTimer(Base):
    """A due moment of one case's SLA metric: a warning ahead of it or the breach itself.

    The scheduler sleeps until the earliest unfired row; `target_at` is the metric's due time
    the row was armed for, so a row whose due time has since moved is recognised as stale.
    """

    __tablename__ = "sla_timers"
    __table_args__ = (
        UniqueConstraint("case_id", "metric", "kind", "target_at"),
        # The scheduler's one query: the earliest unfired moment (and the claim of due ones).
        # Partial, so fired rows never slow it down.
        Index("ix_sla_timers_unfired", "due_at", postgresql_where=text("fired_at IS NULL"),
              sqlite_where=text("fired_at IS NULL")),
        Index("ix_sla_timers_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id"))
    # first_response / next_response / resolution
    metric: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # warning / breach
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    target_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # fired, or stale (the metric stopped, moved or lost its target before the moment came)
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
