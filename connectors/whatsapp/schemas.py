"""WhatsApp Cloud API shapes: the channel config, webhook notifications, Graph API answers.

Provider models ignore unknown keys: Meta adds fields to webhooks without notice, and a new
field must never turn a customer's message into a failed event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CsatTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(default="en", min_length=2, max_length=15)


class WhatsAppChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number_id: str = Field(pattern=r"^\d{1,32}$")
    # Needed for the template list only; a channel that never sends templates may omit it.
    business_account_id: str | None = Field(default=None, pattern=r"^\d{1,32}$")
    access_token: str = Field(min_length=1, max_length=2048)
    app_secret: str = Field(min_length=1, max_length=256)
    verify_token: str = Field(min_length=8, max_length=256)
    graph_base_url: str = Field(default="https://graph.facebook.com",
                                pattern=r"^https?://[^\s/]+(/[^\s]*)?$", max_length=500)
    graph_version: str = Field(default="v23.0", pattern=r"^v\d{1,3}\.\d{1,3}$")
    # An approved template for the CSAT survey outside the 24-hour window: five quick-reply
    # buttons whose payloads omniroute fills ({"name", "language"}).
    csat_template: CsatTemplate | None = None


class Provider(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# -- webhook notifications -------------------------------------------------------------------

class Profile(Provider):
    name: str | None = None


class Contact(Provider):
    wa_id: str
    profile: Profile | None = None


class Metadata(Provider):
    display_phone_number: str | None = None
    phone_number_id: str


class ErrorData(Provider):
    details: str | None = None


class GraphErrorItem(Provider):
    """One entry of an `errors` array (statuses, unsupported messages, system errors)."""

    code: int
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None

    def describe(self) -> str:
        return f"{self.code} {self.title or self.message or 'error'}"


class Text(Provider):
    body: str


class Media(Provider):
    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool | None = None
    animated: bool | None = None


class Location(Provider):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class ContactName(Provider):
    formatted_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class ContactPhone(Provider):
    phone: str | None = None
    wa_id: str | None = None
    type: str | None = None


class ContactEmail(Provider):
    email: str | None = None
    type: str | None = None


class SharedContact(Provider):
    name: ContactName | None = None
    phones: list[ContactPhone] = Field(default_factory=list)
    emails: list[ContactEmail] = Field(default_factory=list)


class ReplyChoice(Provider):
    id: str
    title: str
    description: str | None = None


class Interactive(Provider):
    type: str
    button_reply: ReplyChoice | None = None
    list_reply: ReplyChoice | None = None


class Button(Provider):
    """A quick-reply button of a template message."""

    payload: str | None = None
    text: str


class Reaction(Provider):
    message_id: str
    emoji: str | None = None


class System(Provider):
    body: str | None = None
    type: str | None = None
    wa_id: str | None = None
    new_wa_id: str | None = None


class Context(Provider):
    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None


class Message(Provider):
    from_: str = Field(alias="from")
    id: str
    timestamp: str
    type: str
    context: Context | None = None
    text: Text | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[SharedContact] | None = None
    interactive: Interactive | None = None
    button: Button | None = None
    reaction: Reaction | None = None
    system: System | None = None
    referral: dict[str, Any] | None = None
    errors: list[GraphErrorItem] = Field(default_factory=list)


class Status(Provider):
    id: str
    status: str
    timestamp: str
    recipient_id: str | None = None
    errors: list[GraphErrorItem] = Field(default_factory=list)


class MessagesEnvelope(Provider):
    """A `messages` value with its messages and statuses left unread, each to be validated on
    its own: one Meta sends in a shape we do not know must not take the others with it."""

    metadata: Metadata
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Any] = Field(default_factory=list)
    statuses: list[Any] = Field(default_factory=list)
    errors: list[GraphErrorItem] = Field(default_factory=list)


class Change(Provider):
    field: str
    # Validated per field: other fields (template updates, account alerts) have other shapes.
    value: dict[str, Any] = Field(default_factory=dict)


class Entry(Provider):
    id: str
    changes: list[Change] = Field(default_factory=list)


class Notification(Provider):
    object: str
    entry: list[Entry] = Field(default_factory=list)


# -- Graph API answers ------------------------------------------------------------------------

class GraphError(Provider):
    message: str | None = None
    type: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    error_data: ErrorData | None = None
    fbtrace_id: str | None = None


class GraphErrorBody(Provider):
    error: GraphError


class SentMessageId(Provider):
    id: str


class SendAnswer(Provider):
    messages: list[SentMessageId] = Field(min_length=1)


class MediaInfo(Provider):
    url: str
    mime_type: str | None = None
    file_size: int | None = None
    sha256: str | None = None


class TemplatePageCursors(Provider):
    after: str | None = None


class TemplatePaging(Provider):
    cursors: TemplatePageCursors | None = None
    next: str | None = None


class TemplatePage(Provider):
    data: list[dict[str, Any]] = Field(default_factory=list)
    paging: TemplatePaging | None = None
