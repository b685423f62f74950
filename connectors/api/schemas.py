"""The generic API channel's wire format (ARCHITECTURE.md, "Contract details")."""

from __future__ import annotations

from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field


class ApiChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callback_url: AnyHttpUrl | None = None
    secret: str = Field(min_length=16, max_length=512)
    # Treat the bot's name/phone/e-mail hints as verified (the bot verified them itself).
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
    csat: CsatAnswer | None = None


class CallbackAnswer(BaseModel):
    """What the bot may answer to a delivery; anything else in a 2xx still means delivered."""

    model_config = ConfigDict(extra="ignore")

    external_message_id: str | None = Field(default=None, max_length=200)
