"""Customer API shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from router.ids import DbId
from router.threads.schemas import WindowOut


class IdentityOut(BaseModel):
    id: int
    kind: str
    value: str
    verified: bool
    channel_id: str | None
    reachable: bool
    last_inbound_at: datetime | None


class CustomerOut(BaseModel):
    id: int
    name: str | None
    thread_id: int
    merged_into_id: int | None
    identities: list[IdentityOut]
    reply_windows: list[WindowOut] = Field(
        default_factory=list,
        description="Channels with a customer-service window (WhatsApp's 24 hours): open or not.")
    created_at: datetime


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_customer_id: DbId = Field(description="The customer folded into this one.")
    reason: str | None = Field(default=None, max_length=2000)


class MergeOut(BaseModel):
    id: int
    target_customer_id: int
    source_customer_id: int
    automatic: bool
    reason: str | None
    actor: str | None
    created_at: datetime
    undone_at: datetime | None


class SuggestionOut(BaseModel):
    id: int
    customer_id: int
    other_customer_id: int
    reason: str
    created_at: datetime
