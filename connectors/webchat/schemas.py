"""Web-chat wire formats: channel config, what the widget sends, and the raw events we store.

We are our own provider here, so the stored raw event is a JSON document the server builds
after checking the visitor's token; `parse()` reads only that, never the browser's frames.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT_LENGTH = 5000
# Client-generated message ids double as external ids, so retries of one message dedupe.
CLIENT_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


class WebchatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Origins allowed to embed the widget ("https://shop.example"); "*" allows any. Empty means
    # only pages served from omniroute's own origin.
    allowed_origins: list[str] = Field(default_factory=list, max_length=100)
    # HMAC-SHA256(identity_secret, user_id) proves a visitor is the site's logged-in user.
    identity_secret: str = Field(min_length=16, max_length=512)
    # Replies a visitor did not see live are also mailed through this e-mail channel.
    email_channel_id: str | None = Field(default=None, max_length=64)

    @field_validator("allowed_origins")
    @classmethod
    def _origins_are_origins(cls, value: list[str]) -> list[str]:
        cleaned = []
        for origin in value:
            origin = origin.strip().rstrip("/").lower()
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} is not an origin like https://shop.example")
            if origin != "*" and "/" in origin.split("://", 1)[1]:
                raise ValueError(f"{origin!r} has a path; an origin is scheme://host[:port]")
            cleaned.append(origin)
        return cleaned


class WebchatSiteUser(BaseModel):
    """The site's logged-in user as its backend vouches for them (identity verification)."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=200)
    identity_hash: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)


class WebchatProfile(BaseModel):
    """What the visitor typed into the pre-chat form or the offline notice (unverified)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)


class WebchatSessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(default=None, max_length=4000)
    user: WebchatSiteUser | None = None


class WebchatSessionAnswer(BaseModel):
    token: str
    visitor_id: str
    verified: bool
    agents_online: bool


FILE_ID_PATTERN = r"^f_[A-Za-z0-9_-]{16,64}$"


class FileRef(BaseModel):
    """An upload the visitor made through `POST /webchat/{channel_id}/files`, as stored."""

    model_config = ConfigDict(extra="forbid")

    file_id: str = Field(pattern=FILE_ID_PATTERN)
    url: str = Field(max_length=2000)
    mime_type: str | None = Field(default=None, max_length=200)
    filename: str | None = Field(default=None, max_length=300)
    size: int | None = Field(default=None, ge=0)


class WebchatVisitorMessage(BaseModel):
    """One message as the widget sends it (WebSocket frame or REST body)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=CLIENT_ID_PATTERN)
    text: str = Field(default="", max_length=MAX_TEXT_LENGTH)
    # Ids of the visitor's own uploads; the server resolves them, a URL is never taken.
    attachments: list[str] = Field(default_factory=list, max_length=5)
    profile: WebchatProfile | None = None


class StoredUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str
    identity_hash: str
    email: str | None = None
    name: str | None = None


class MessageEvent(BaseModel):
    """Raw event `message`: a visitor wrote something."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["message"]
    visitor_id: str = Field(min_length=1, max_length=300)
    client_message_id: str = Field(pattern=CLIENT_ID_PATTERN)
    text: str = Field(max_length=MAX_TEXT_LENGTH)
    sent_at: datetime
    name: str | None = None
    email: str | None = None
    user: StoredUser | None = None
    attachments: list[FileRef] = Field(default_factory=list)


class ReadEvent(BaseModel):
    """Raw event `read`: the visitor saw our messages (receipts), by their wc- external ids."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["read"]
    visitor_id: str = Field(min_length=1, max_length=300)
    message_ids: list[str] = Field(min_length=1, max_length=200)
    read_at: datetime


class ChoiceEvent(BaseModel):
    """Raw event `choice`: the visitor picked one of the choices under our message (the stars
    of a satisfaction survey), by the choice's id."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["choice"]
    visitor_id: str = Field(min_length=1, max_length=300)
    choice_id: str = Field(min_length=1, max_length=64)
    chosen_at: datetime


class EventKind(BaseModel):
    """Just enough of a raw event to pick its handler."""

    model_config = ConfigDict(extra="allow")

    kind: str
