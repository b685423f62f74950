"""Thread and message API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StrictBool

from router.cases.schemas import CaseOut
from router.ids import DbId

ThreadStatus = Literal["open", "pending", "resolved"]
Priority = Literal["low", "normal", "high", "urgent"]


class AttachmentOut(BaseModel):
    id: str
    kind: str | None = None
    mime_type: str | None = None
    filename: str | None = None
    size: int | None = None
    url: str | None = None


class MessageOut(BaseModel):
    id: int
    thread_id: int
    direction: Literal["inbound", "outbound", "note"]
    channel_id: str | None
    external_id: str | None
    text: str
    attachments: list[dict[str, Any]]
    sent_at: datetime
    created_at: datetime
    status: Literal["received", "queued", "sent", "delivered", "read", "failed"]
    error: str | None
    author: str | None
    automatic: bool
    reply_to_message_id: int | None
    edited: bool
    meta: dict[str, Any]


class WindowOut(BaseModel):
    """Whether a free-form reply may go out on a channel with a customer-service window."""

    channel_id: str
    identity_id: int
    open: bool
    closes_at: datetime | None


class ThreadOut(BaseModel):
    id: int
    customer_id: int
    status: ThreadStatus
    assignee: str | None
    team: str | None
    team_id: int | None = None
    assignee_id: int | None = None
    case_id: int | None = None
    # The current case (the last one once resolved) and its 1-based place in its team's
    # queue while nobody has taken it.
    case: CaseOut | None = None
    queue_position: int | None = None
    priority: Priority
    tags: list[str]
    last_message_at: datetime
    last_inbound_at: datetime | None
    last_inbound_channel_id: str | None
    first_response_at: datetime | None
    created_at: datetime
    updated_at: datetime
    reply_windows: list[WindowOut] = Field(default_factory=list)


class ThreadPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ThreadStatus | None = None
    assignee: str | None = Field(default=None, max_length=200)
    team: str | None = Field(default=None, max_length=200)
    priority: Priority | None = None
    tags: list[str] | None = Field(default=None, max_length=50)


class OutAttachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl
    mime_type: str | None = Field(default=None, max_length=200)
    filename: str | None = Field(default=None, max_length=300)


class ButtonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=20)


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    components: list[dict[str, Any]] = Field(default_factory=list)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=65_536)
    channel_id: str | None = Field(default=None, max_length=32)
    internal: StrictBool = False
    attachments: list[OutAttachment] = Field(default_factory=list, max_length=10)
    reply_to_message_id: DbId | None = None
    template: TemplateIn | None = None
    buttons: list[ButtonIn] = Field(default_factory=list, max_length=10)
    request_contact: StrictBool = False
