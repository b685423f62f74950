"""The typed contract between the core and every channel connector.

Connectors never touch the database. Inbound, a connector's webhook verifies the request and
hands the raw bytes to the core through an `InboundGateway`; later the core's worker calls
`parse()` on the stored event and applies what comes back. Outbound, the core's outbox worker
calls `send()` and interprets `SendResult` / `DeliveryError`.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from fastapi import APIRouter, Request
from pydantic import BaseModel

if TYPE_CHECKING:
    from connectors.fetch import GuardedFetcher
    from connectors.webhooks import Webhook

IdentityKind = Literal["telegram", "whatsapp", "email", "phone", "webchat", "api"]
DeliveryStatus = Literal["sent", "delivered", "read", "failed"]


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """Facts about a channel the core plans around; revisit when the provider changes them."""

    max_text_length: int
    supports_media: bool = True
    # Outbound pacing: None means unlimited. The outbox worker enforces both.
    per_chat_per_second: float | None = None
    per_channel_per_second: float | None = None
    # Free-form replies are only allowed this long after the customer last wrote (WhatsApp 24h).
    reply_window: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A configured channel as a connector sees it: config already decrypted and validated."""

    id: str
    type: str
    name: str
    config: Mapping[str, Any]
    webhook_url: str | None = None


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One provider request exactly as it was stored, handed back to `parse()`."""

    id: int
    channel_id: str
    external_event_id: str
    payload: bytes
    content_type: str
    received_at: datetime
    # The channel's validated config (secrets included) at processing time, for parsers whose
    # reading depends on it (API channel `trusted`, e-mail `authserv_id` and own address).
    channel_config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IdentityHint:
    """A contact detail the provider told us about the sender (normalised by the core)."""

    kind: Literal["phone", "email"]
    value: str
    verified: bool


@dataclass(frozen=True, slots=True)
class Attachment:
    """Attachment metadata; bytes stay at the provider unless `url` points elsewhere."""

    kind: Literal["image", "audio", "voice", "video", "document", "sticker", "animation",
                  "location", "contact", "file"]
    mime_type: str | None = None
    filename: str | None = None
    size: int | None = None
    url: str | None = None
    # Provider handle used by `open_attachment()` (Telegram file_id, WhatsApp media id, ...).
    provider_ref: str | None = None
    # Small structured extras (location lat/lon, contact vcard fields, caption, ...).
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What a trusted channel (a CRM's own bot) says about the sender, already validated."""

    # None leaves the stored tier as it is.
    tier: str | None = None
    # Merged into the stored attributes (JSON merge patch): a None value removes that key.
    attributes: Mapping[str, str | int | float | bool | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message, ready for identity resolution and threading."""

    channel_id: str
    external_user_id: str
    external_message_id: str
    sent_at: datetime
    text: str
    attachments: tuple[Attachment, ...] = ()
    reply_to_external_id: str | None = None
    name: str | None = None
    hints: tuple[IdentityHint, ...] = ()
    # Is `external_user_id` itself proven by the provider (Telegram id, wa_id, DKIM-passed mail)?
    user_verified: bool = True
    # Automatic mail (auto-reply/out-of-office): stored, shown as automatic, never reopens.
    automatic: bool = False
    # External ids of our earlier messages this one refers to (e-mail References/In-Reply-To),
    # or thread tokens; the core uses them to find the thread when the sender is unknown.
    thread_refs: tuple[str, ...] = ()
    # The provider's id for one message sent in parts (a Telegram album's media_group_id):
    # parts fold into the first one's message, attachments appended, each part deduplicated.
    part_of: str | None = None
    # Provider-specific extras kept on the message (subject, forward origin, message-id, ...).
    meta: Mapping[str, Any] = field(default_factory=dict)
    # CRM facts (tier, attributes) from a channel the admin marked trusted; never set by
    # connectors whose senders could claim them.
    customer_facts: CustomerFacts | None = None
    # False for mail a machine wrote (auto-replies): shown when it comes from a known
    # customer, but from an unknown sender it is ignored, never a new customer or thread.
    creates_customer: bool = True


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """The provider's word on one of our outbound messages."""

    channel_id: str
    external_message_id: str
    status: DeliveryStatus
    at: datetime
    error: str | None = None


@dataclass(frozen=True, slots=True)
class MessageEdit:
    """The customer edited a message; the core keeps the previous text."""

    channel_id: str
    external_message_id: str
    text: str
    edited_at: datetime


@dataclass(frozen=True, slots=True)
class ReachabilityChange:
    """The customer blocked or unblocked us on this channel."""

    channel_id: str
    external_user_id: str
    reachable: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class ActionEvent:
    """A button press or similar action (Telegram callback_query, WhatsApp button reply)."""

    channel_id: str
    external_user_id: str
    action_id: str
    data: str
    at: datetime
    external_message_id: str | None = None
    # Free text the customer sent with the action (a bot's CSAT answer with a comment).
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Ignored:
    """The event means nothing for a thread on purpose (a bounce we cannot match, a mail
    daemon writing): the core keeps it, marked `ignored` with this reason."""

    channel_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    """One part of an event could not be read: the rest is applied, and the event is marked
    `partial` with this reason (it names the part and what was wrong, never its text)."""

    channel_id: str
    reason: str
    # What went wrong, for a connector that fails the whole event when nothing could be read.
    cause: Exception | None = field(default=None, compare=False, repr=False)


InboundItem = (InboundMessage | StatusUpdate | MessageEdit | ReachabilityChange | ActionEvent
               | Ignored | Unreadable)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a reply goes to on the chosen channel."""

    external_user_id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundAttachment:
    url: str
    mime_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One agent reply (or automatic message) to deliver."""

    message_id: int
    thread_id: int
    recipient: Recipient
    text: str
    attachments: tuple[OutboundAttachment, ...] = ()
    # External id of the customer's message being quoted, when the agent replied to one.
    reply_to_external_id: str | None = None
    # The customer's latest inbound message on this channel (e-mail threading headers, subject).
    last_inbound_external_id: str | None = None
    last_inbound_meta: Mapping[str, Any] = field(default_factory=dict)
    # Earlier external ids in this thread on this channel, oldest first (e-mail References).
    history_external_ids: tuple[str, ...] = ()
    # Provider template (WhatsApp): {"name", "language", "components"}; allowed outside windows.
    template: Mapping[str, Any] | None = None
    buttons: tuple[ReplyButton, ...] = ()
    request_contact: bool = False
    # A satisfaction survey this message asks ({"case_id", "question", "scores": [{"score",
    # "id", "title"}]}); the buttons carry the same choices for channels that show buttons.
    survey: Mapping[str, Any] | None = None
    automatic: bool = False
    # A per-thread token the connector may embed (e-mail Reply-To plus-address).
    thread_token: str = ""


@dataclass(frozen=True, slots=True)
class SendResult:
    external_id: str | None
    status: Literal["sent", "delivered"] = "sent"
    # Some sends become several provider messages (long text split); all their ids.
    extra_external_ids: tuple[str, ...] = ()
    # Stored for the customer but not seen live (web-chat visitor offline): the core also
    # delivers a copy through this channel when the customer has an identity on it.
    also_deliver_via_channel_id: str | None = None


class DeliveryError(Exception):
    """A send failed. `retryable` decides between backoff and a permanent failure."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        recipient_unreachable: bool = False,
        channel_unhealthy: bool = False,
        window_closed: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.recipient_unreachable = recipient_unreachable
        self.channel_unhealthy = channel_unhealthy
        self.window_closed = window_closed


class AttachmentGone(DeliveryError):
    """The file was deleted on purpose (an expired upload): the core answers 410."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retryable=False)


class WebhookRejected(Exception):
    """A webhook request the connector refuses; the core renders it as problem+json."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail


@dataclass(frozen=True, slots=True)
class AttachmentStream:
    mime_type: str
    chunks: AsyncIterator[bytes]
    size: int | None = None
    filename: str | None = None
    # Releases the source (a fetch's HTTP client) when `chunks` is not read to its end; the
    # core calls it however the download ends, and calling it twice is harmless.
    close: Callable[[], Awaitable[None]] | None = None

    async def aclose(self) -> None:
        if self.close is not None:
            await self.close()


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """A file a channel's user uploaded to us (a web-chat visitor), kept by the core."""

    id: str
    owner: str
    mime_type: str
    filename: str | None
    size: int
    created_at: datetime
    expires_at: datetime
    data: bytes = b""


class UploadRefused(Exception):
    """The core keeps no more uploads for this owner (its quota) or channel (storage full)."""

    def __init__(self, detail: str, *, scope: Literal["owner", "channel"]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.scope = scope


class UploadGone(LookupError):
    """The upload expired; it is deleted (or about to be) and never handed out again."""


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One message of a customer's thread, for showing the customer their own history."""

    id: int
    direction: Literal["inbound", "outbound"]
    text: str
    sent_at: datetime
    status: str
    channel_id: str | None
    attachments: tuple[Mapping[str, Any], ...] = ()


# (key, frame) → how many live connections in this process took the frame.
LiveHandler = Callable[[str, dict[str, Any]], Awaitable[int]]


# Limits of the core a connector may count its users against: one visitor's requests, and
# new visitors per client address.
RateLimitName = Literal["visitor", "visitor_sessions"]


class InboundGateway(Protocol):
    """What the core offers a connector's webhook and receiver code."""

    # The one way to fetch a URL someone else chose, with the operator's allow-list.
    fetcher: GuardedFetcher

    async def channel(self, channel_id: str, channel_type: str) -> Channel:
        """The channel with decrypted config; raises a 404 problem if absent or of another type."""
        ...

    async def accept(
        self, channel: Channel, external_event_id: str, payload: bytes, content_type: str
    ) -> None:
        """Store the raw event durably (duplicate ids are a no-op); returns once committed."""
        ...

    async def load_state(self, channel_id: str, key: str) -> str | None:
        """Read a connector's persisted cursor (polling offset, IMAP UID)."""
        ...

    async def save_state(self, channel_id: str, key: str, value: str) -> None:
        """Persist a connector's cursor."""
        ...

    async def accept_and_save_state(
        self,
        channel: Channel,
        events: list[tuple[str, bytes, str]],
        key: str,
        value: str,
    ) -> None:
        """Store several raw events and advance a cursor in one transaction (pollers)."""
        ...


    async def history(
        self, channel: Channel, external_user_id: str, before_id: int | None, limit: int
    ) -> list[HistoryItem]:
        """The customer's thread as this identity may see it, newest last: what it said and
        what was sent to it (no internal notes); a verified identity also sees the
        customer's other verified identities' conversation, never what a merge with an
        unproven match brought in."""
        ...

    async def rate_limit(self, limit: RateLimitName, key: str) -> float:
        """Count one request of `key` (scope it by channel) against the service's `limit`
        (settings `rate_limit_<limit>`, shared by replicas through Redis): 0 when it may
        pass, else the seconds until one would."""
        ...

    async def store_upload(self, channel: Channel, owner: str, data: bytes, mime_type: str,
                           filename: str | None) -> StoredUpload:
        """Keep a user's file until it expires; UploadRefused past the owner's or channel's
        quota. The id handed back is unguessable (`f_...`)."""
        ...

    async def load_upload(self, channel: Channel, upload_id: str) -> StoredUpload | None:
        """The upload with its bytes, None if there is none; UploadGone once it expired."""
        ...

    def signing_key(self, purpose: str) -> bytes:
        """A 32-byte key derived from OMNIROUTE_SECRET_KEY for `purpose` (visitor tokens)."""
        ...

    def agents_online(self) -> bool:
        """Whether any agent is connected to the live event stream (web-chat presence)."""
        ...

    async def report_health(
        self, channel_id: str, healthy: bool, reason: str | None = None
    ) -> None:
        """A receiver's connection failed (with `reason`) or works again: the channel shows it.

        Cheap to call on every attempt; only changes are written."""
        ...

    async def customer_typing(self, channel: Channel, external_user_id: str) -> None:
        """The customer is typing: agents get a momentary `customer.typing` event."""
        ...

    def on_live(self, kind: str, handler: LiveHandler) -> None:
        """Take `deliver_live(kind, ...)` requests from other replicas: the handler pushes to
        connections held in this process and returns how many took the frame."""
        ...

    async def deliver_live(self, kind: str, key: str, frame: dict[str, Any]) -> int:
        """Push `frame` to `key`'s connections held by other replicas; how many took it
        (always 0 with one replica: the caller has already tried its own)."""
        ...


async def get_gateway(request: Request) -> InboundGateway:
    """FastAPI dependency: the core's gateway, installed on app.state at start-up."""
    # async on purpose: FastAPI runs sync dependencies in a thread pool, which cost a fifth
    # of every webhook request under load (bench/NOTES.md).
    gateway: InboundGateway = request.app.state.inbound_gateway
    return gateway


ReceiverFactory = Callable[[Channel, InboundGateway], Awaitable[None]]


@runtime_checkable
class Connector(Protocol):
    """A channel type. Instances are stateless apart from caches and HTTP clients."""

    type: ClassVar[str]
    limits: ClassVar[ChannelLimits]
    # The kind of identity `external_user_id` is, and whether its ids are only unique inside
    # one channel (an API channel's user ids are the bot's own; a Telegram id is global).
    identity_kind: ClassVar[IdentityKind]
    identity_per_channel: ClassVar[bool]
    # Pydantic model validating `config`; unknown keys are refused.
    config_model: ClassVar[builtins.type[BaseModel]]
    # Config keys stored encrypted and never returned; the generated ones are created when
    # left out and shown once in the create response.
    secret_fields: ClassVar[frozenset[str]]
    generated_secrets: ClassVar[frozenset[str]]
    # True when inbound files travel inside the stored raw event (e-mail): the core then hands
    # the original to `open_attachment_in`, and nothing is stored a second time.
    attachments_in_original: ClassVar[bool]

    def routes(self) -> APIRouter:
        """Inbound webhooks, mounted under /webhooks/<type>."""
        ...

    def webhooks(self) -> Sequence[Webhook]:
        """POST webhooks among `routes()` the core may also serve on its hot path."""
        ...

    def parse(self, raw: RawEvent) -> list[InboundItem]:
        """Turn one stored raw event into items; raise ValueError for a malformed event."""
        ...

    async def send(self, channel: Channel, msg: OutboundMessage) -> SendResult:
        """Deliver one message or raise DeliveryError."""
        ...

    async def on_channel_saved(self, channel: Channel, public_url: str | None) -> None:
        """Provider-side set-up after create/update (Telegram setWebhook)."""
        ...

    async def on_channel_deleted(self, channel: Channel) -> None:
        """Provider-side tear-down (Telegram deleteWebhook)."""
        ...

    def receiver(self, channel: Channel) -> ReceiverFactory | None:
        """A long-running pull loop for this channel (polling, IMAP), or None."""
        ...

    async def open_attachment(self, channel: Channel, attachment: Attachment) -> AttachmentStream:
        """Stream an attachment's bytes from the provider."""
        ...

    async def open_attachment_in(
        self, channel: Channel, attachment: Attachment, original: bytes
    ) -> AttachmentStream:
        """An inbound file cut from the stored original (`attachments_in_original`)."""
        ...

    async def templates(self, channel: Channel) -> list[dict[str, Any]]:
        """Approved message templates (WhatsApp); raise NotSupported where there are none."""
        ...

    def acknowledgement(self, channel: Channel, message: InboundMessage) -> Acknowledgement | None:
        """An automatic reply to send when `message` opens or reopens a thread, or None."""
        ...

    async def agent_typing(self, channel: Channel, recipient: Recipient) -> None:
        """Show the customer that an agent is typing, where the channel can."""
        ...

    async def close_controls(self, channel: Channel, action: ActionEvent, text: str) -> bool:
        """Replace the buttons of the message `action` came from with `text` where the
        channel can edit a sent message (Telegram); False where it cannot."""
        ...

    async def start(self, gateway: InboundGateway) -> None:
        """Once at start-up, with the core's gateway (to take live deliveries, say)."""
        ...

    async def close(self) -> None:
        """Release HTTP clients at shutdown."""
        ...


class NotSupported(Exception):
    """The channel type has no such capability (templates on Telegram, ...)."""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """An automatic reply; the core sends at most one per thread per `min_interval`."""

    text: str
    min_interval: timedelta


class BaseConnector:
    """Defaults for the optional parts of the contract: no provider set-up, no receiver."""

    attachments_in_original: ClassVar[bool] = False
    _fetcher: GuardedFetcher | None = None

    @property
    def fetcher(self) -> GuardedFetcher:
        """The core's guarded fetcher once started; before that one with no allow-list."""
        if self._fetcher is None:
            from connectors.fetch import GuardedFetcher

            self._fetcher = GuardedFetcher()
        return self._fetcher

    @fetcher.setter
    def fetcher(self, fetcher: GuardedFetcher) -> None:
        self._fetcher = fetcher

    async def open_attachment_in(
        self, channel: Channel, attachment: Attachment, original: bytes
    ) -> AttachmentStream:
        return await self.open_attachment(channel, attachment)

    async def on_channel_saved(self, channel: Channel, public_url: str | None) -> None:
        return None

    async def on_channel_deleted(self, channel: Channel) -> None:
        return None

    def receiver(self, channel: Channel) -> ReceiverFactory | None:
        return None

    def webhooks(self) -> Sequence[Webhook]:
        return ()

    async def open_attachment(self, channel: Channel, attachment: Attachment) -> AttachmentStream:
        if attachment.url is None:
            raise DeliveryError("this attachment has no retrievable source", retryable=False)
        return await self.fetcher.open(attachment.url, mime_type=attachment.mime_type,
                                       filename=attachment.filename)

    async def templates(self, channel: Channel) -> list[dict[str, Any]]:
        raise NotSupported(f"{channel.type} channels have no message templates")

    def acknowledgement(self, channel: Channel, message: InboundMessage) -> Acknowledgement | None:
        return None

    async def agent_typing(self, channel: Channel, recipient: Recipient) -> None:
        return None

    async def close_controls(self, channel: Channel, action: ActionEvent, text: str) -> bool:
        return False

    async def start(self, gateway: InboundGateway) -> None:
        self.fetcher = gateway.fetcher

    async def close(self) -> None:
        return None
