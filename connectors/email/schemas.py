"""Channel configuration of an e-mail channel.

Passwords live in top-level `imap_password` / `smtp_password` keys because the core seals only
top-level `secret_fields`; a `password` given inside `imap` / `smtp` (the documented shape) is
moved there before validation, so it is never stored in clear nor returned.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Security = Literal["ssl", "starttls", "plain"]
DEFAULT_ACK_TEMPLATE = (
    "Thank you for your message: it has reached our support team. "
    "We usually answer within {response_time}.\n\n"
    "Simply reply to this e-mail if you want to add anything."
)


class ImapSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=993, ge=1, le=65535)
    security: Security = "ssl"
    username: str = Field(min_length=1)
    folder: str = "INBOX"
    # Seconds between checks when the server does not offer IDLE.
    poll_seconds: float = Field(default=60.0, gt=0)


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Security = "starttls"
    # Empty: the server takes mail without authentication (a local relay).
    username: str = ""


class EmailChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str
    display_name: str = ""
    # Without `imap` the channel only receives through POST /webhooks/email/{id} (MTA pipe).
    imap: ImapSettings | None = None
    imap_password: str = ""
    smtp: SmtpSettings
    smtp_password: str = ""
    inbound_secret: str = Field(min_length=16)
    # The authserv-id of OUR receiving MTA; Authentication-Results from anyone else are
    # ignored, since any sender can write that header into their own mail.
    authserv_id: str = ""
    ack_template: str = DEFAULT_ACK_TEMPLATE
    ack_response_time: str = "one business day"
    # The template's language: the SLA's {due} and {response_time} are written in it.
    ack_language: str = Field(default="en", pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")
    ack_interval_minutes: int = Field(default=24 * 60, ge=0)
    # Inline images and attachments larger than this are listed but not kept in the message.
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=0)

    @field_validator("address")
    @classmethod
    def _plain_address(cls, value: str) -> str:
        local, at, domain = value.strip().rpartition("@")
        if not at or not local or "." not in domain or " " in value.strip():
            raise ValueError("address must be a plain e-mail address like support@example.com")
        return f"{local}@{domain.lower()}"

    @field_validator("ack_template")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            value.format(response_time="", due="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                "ack_template may only use the placeholders {response_time} and {due} "
                f"(write {{{{ and }}}} for literal braces): {exc}") from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _lift_nested_passwords(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for section in ("imap", "smtp"):
            nested = data.get(section)
            if isinstance(nested, dict) and "password" in nested:
                nested = dict(nested)
                data[f"{section}_password"] = nested.pop("password")
                data[section] = nested
        return data
