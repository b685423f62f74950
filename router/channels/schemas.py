"""Channel API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    # Merged over the stored config; secrets left out keep their stored value.
    config: dict[str, Any] | None = None


class ChannelOut(BaseModel):
    id: str
    type: str
    name: str
    config: dict[str, Any]
    secrets_set: list[str]
    webhook_url: str
    health: str
    health_reason: str | None
    created_at: datetime
    updated_at: datetime


class ChannelCreated(ChannelOut):
    generated_secrets: dict[str, str] = Field(
        default_factory=dict, description="Secrets generated for you; shown only this once."
    )
