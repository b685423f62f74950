"""The generic API channel's wire format (ARCHITECTURE.md, "Contract details")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from connectors.customer_facts import Scalar, clean_attributes, clean_tier


class ApiChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callback_url: AnyHttpUrl | None = None
    secret: str = Field(min_length=16, max_length=512)
    # Treat the bot's name/phone/e-mail hints as verified (the bot verified them itself), and
    # take the customer's tier and attributes from its messages.
    trusted: bool = False


class InboundAttachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    mime_type: str | None = Field(default=None, max_length=200)
    filename: str | None = Field(default=None, max_length=300)


class CsatAnswer(BaseModel):
    """The customer's choice from a `csat_request`: its token, and an optional comment."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=64)
    comment: str | None = Field(default=None, max_length=4000)


class InboundBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_user_id: str = Field(min_length=1, max_length=200)
    external_message_id: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=65_536)
    sent_at: datetime | None = None
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    attachments: list[InboundAttachment] = Field(default_factory=list, max_length=20)
    reply_to_external_message_id: str | None = Field(default=None, max_length=200)
    # CRM facts about the sender; applied only when the channel is trusted.
    tier: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] | None = Field(
        default=None, description="A flat object of scalars merged into the customer's "
        "attributes (null removes a key); trusted channels only")

    @field_validator("tier")
    @classmethod
    def _tier(cls, value: str | None) -> str | None:
        return None if value is None else clean_tier(value)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, Any] | None) -> dict[str, Scalar | None] | None:
        return None if value is None else clean_attributes(value)
    csat: CsatAnswer | None = None


class CallbackAnswer(BaseModel):
    """What the bot may answer to a delivery; anything else in a 2xx still means delivered."""

    model_config = ConfigDict(extra="ignore")

    external_message_id: str | None = Field(default=None, max_length=200)
