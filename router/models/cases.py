"""Cases: each stretch of a thread from the customer's first unanswered message to resolved."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from router.models.base import Base, BigId, Json, UTCDateTime, utcnow


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_thread", "thread_id", "id"),
        Index("ix_cases_assignee_status", "assignee_id", "status"),
        # A team's queue: waiting cases by priority rank, then due time, then age.
        Index("ix_cases_queue", "team_id", "queued_at", "priority_rank", "sla_due_at", "id"),
        Index("ix_cases_opened", "opened_at", "id"),
        Index("ix_cases_status_due", "status", "sla_due_at"),
        # GET /v1/threads?sort=sla_due: threads in their current case's due order.
        Index("ix_cases_due_thread", "sla_due_at", "thread_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    thread_id: Mapped[int] = mapped_column(BigId, ForeignKey("threads.id"))
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    # open / pending / resolved
    status: Mapped[str] = mapped_column(String(16), default="open")
    # The customer's first unanswered message, as the provider timed it (never after receipt).
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    channel_type: Mapped[str | None] = mapped_column(String(32))
    last_inbound_channel_id: Mapped[str | None] = mapped_column(String(32))
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The customer's oldest message since the last agent reply (next-response clock start).
    awaiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # agent / auto / merge: who or what resolved it (surveys skip auto and merge).
    resolved_by: Mapped[str | None] = mapped_column(String(16))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    messages_in: Mapped[int] = mapped_column(Integer, default=0)
    agent_replies: Mapped[int] = mapped_column(Integer, default=0)
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the case waits in its team's queue for someone with room.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    # urgent 0, high 1, normal 2, low 3: the queue sorts on this.
    priority_rank: Mapped[int] = mapped_column(Integer, default=2)
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    rule_id: Mapped[int | None] = mapped_column(BigId)
    # SLA: the policy, the due times, the earliest of those still running, pause, breaches.
    sla_policy_id: Mapped[int | None] = mapped_column(BigId)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breaches: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    experiment_id: Mapped[int | None] = mapped_column(BigId)
    experiment_bucket: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseEvent(Base):
    """A case's history: opened, queued, assigned, transferred, resolved, reopened, ..."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id"))
    type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rule(Base):
    """A routing rule as data: conditions (`when`) and actions (`then`), first match wins."""

    __tablename__ = "rules"
    __table_args__ = (Index("ix_rules_position", "position", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    enabled: Mapped[bool] = mapped_column(default=True)
    when: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    then: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
