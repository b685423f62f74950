"""Thread and message objects as the API and live events show them."""

from __future__ import annotations

from typing import Any

from router.models import Message, Thread


def message_view(row: Message) -> dict[str, Any]:
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
