"""Customer API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.customer_facts import (
    Scalar,
    clean_attributes,
    clean_language,
    clean_tags,
    clean_text,
    clean_tier,
)
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
    tier: str | None = Field(description="CRM tier (paid, free, gold, ...): rules route on it")
    language: str | None = Field(description="Language tag, e.g. 'ru' or 'en-GB'")
    tags: list[str]
    attributes: dict[str, Scalar] = Field(description="Flat CRM attributes")
    identities: list[IdentityOut]
    reply_windows: list[WindowOut] = Field(
        default_factory=list,
        description="Channels with a customer-service window (WhatsApp's 24 hours): open or not.")
    created_at: datetime


class CustomerPatch(BaseModel):
    """Fields left out stay; null clears tier or language. `attributes` merges (a null value
    removes that key, `"attributes": null` clears them all); `tags` replaces the list. Tier and
    attributes need the supervisor role."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    tier: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=40)
    tags: list[str] | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value) or None

    @field_validator("tier")
    @classmethod
    def _tier(cls, value: str | None) -> str | None:
        return None if value is None else clean_tier(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        return None if value is None else clean_language(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else clean_tags(value)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, Any] | None) -> dict[str, Scalar | None] | None:
        return None if value is None else clean_attributes(value)


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
