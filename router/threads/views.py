"""Thread and message objects as the API and live events show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router.models import Message, Thread


@dataclass(slots=True)
class NewMessage:
    """A message about to be inserted: plain data, so a batch of inbound messages costs no ORM
    object each (router/ingest/batch.py inserts them with one statement). `id` is set once
    the row exists."""

    thread_id: int
    direction: str
    channel_id: str | None
    identity_id: int | None
    external_id: str | None
    text: str
    attachments: list[dict[str, Any]]
    meta: dict[str, Any]
    sent_at: datetime
    created_at: datetime
    status: str
    automatic: bool
    raw_event_id: int | None
    reply_to_message_id: int | None
    edits: list[dict[str, Any]]
    id: int = 0
    error: str | None = None
    author: str | None = None

    def row(self) -> dict[str, Any]:
        """The columns it sets (the others default to NULL; the id is the database's)."""
        return {"thread_id": self.thread_id, "direction": self.direction,
                "channel_id": self.channel_id, "identity_id": self.identity_id,
                "external_id": self.external_id, "text": self.text,
                "attachments": self.attachments, "meta": self.meta, "sent_at": self.sent_at,
                "created_at": self.created_at, "status": self.status,
                "automatic": self.automatic, "raw_event_id": self.raw_event_id,
                "reply_to_message_id": self.reply_to_message_id, "edits": self.edits}


def message_view(row: Message | NewMessage) -> dict[str, Any]:
    attachments = [
        {**a, "id": f"{row.id}-{i}"} for i, a in enumerate(row.attachments or [])
    ]
    return {
        "id": row.id,
        "thread_id": row.thread_id,
        "direction": row.direction,
        "channel_id": row.channel_id,
        "external_id": row.external_id,
        "text": row.text,
        "attachments": attachments,
        "sent_at": row.sent_at.isoformat(),
        "created_at": row.created_at.isoformat(),
        "status": row.status,
        "error": row.error,
        "author": row.author,
        "automatic": row.automatic,
        "reply_to_message_id": row.reply_to_message_id,
        "edited": bool(row.edits),
        "meta": row.meta or {},
    }


def thread_view(row: Thread) -> dict[str, Any]:
    """The thread as `thread.updated` shows it. Routing (team, assignee, current case) is
    published by the case.* events: an inbound batch routes at its end, so a thread.updated
    queued mid-batch could not tell it the way one event at a time would."""
    return {
        "id": row.id,
        "customer_id": row.customer_id,
        "status": row.status,
        "assignee": row.assignee,
        "team": row.team,
        "priority": row.priority,
        "tags": list(row.tags or []),
        "last_message_at": row.last_message_at.isoformat(),
        "last_inbound_at": row.last_inbound_at.isoformat() if row.last_inbound_at else None,
        "last_inbound_channel_id": row.last_inbound_channel_id,
        "first_response_at": row.first_response_at.isoformat() if row.first_response_at else None,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def routed_view(row: Thread) -> dict[str, Any]:
    """The thread object of the API: the thread plus whom it is routed to."""
    return {**thread_view(row), "team_id": row.team_id, "assignee_id": row.assignee_id,
            "case_id": row.case_id}
