"""What the REST routes and the WebSocket share: tokens, visitor messages, receipts, uploads.

Everything a visitor sends is checked here and stored as one of our raw events through
`gateway.accept`; nothing the browser sends is stored as it came.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    Channel,
    HistoryItem,
    InboundGateway,
    StoredUpload,
    UploadGone,
    UploadRefused,
    WebhookRejected,
)
from connectors.webchat.live import LiveVisitors
from connectors.webchat.schemas import (
    FILE_ID_PATTERN,
    ChoiceEvent,
    FileRef,
    MessageEvent,
    ReadEvent,
    StoredUser,
    WebchatSessionRequest,
    WebchatVisitorMessage,
)
from connectors.webchat.tokens import (
    SIGNING_PURPOSE,
    InvalidToken,
    Visitor,
    identity_hash_valid,
    issue,
    new_visitor_id,
    verified_visitor_id,
    verify,
)

MAX_FILE_BYTES = 2_000_000
_FILE_ID = re.compile(FILE_ID_PATTERN)


class RateLimited(WebhookRejected):
    def __init__(self, retry_after: float, detail: str = "slow down: this visitor is sending "
                 "faster than the channel allows") -> None:
        super().__init__(429, "Too many requests", detail)
        self.retry_after = max(1, math.ceil(retry_after))


async def count_visitor(gateway: InboundGateway, channel: Channel, visitor: Visitor,
                        what: str = "send") -> None:
    """One more request of this visitor: `send` (messages, uploads) or `session`."""
    wait = await gateway.rate_limit("visitor", f"{channel.id}:{visitor.visitor_id}:{what}")
    if wait:
        raise RateLimited(wait)


async def count_session(gateway: InboundGateway, channel: Channel, resumed: Visitor | None,
                        client: str) -> None:
    """A session request: a returning visitor's own budget (each page load resumes, so apart
    from its messages'); anyone else's (no token, or one that does not verify) counts
    against their address."""
    if resumed is not None:
        await count_visitor(gateway, channel, resumed, "session")
        return
    wait = await gateway.rate_limit("visitor_sessions", f"{channel.id}:{client}")
    if wait:
        raise RateLimited(wait, "too many new chat visitors from this address; try again later")


@dataclass
class Runtime:
    """State one connector instance keeps for its web-chat channels (all in-process).

    Rate limits are the core's (`gateway.rate_limit`), so replicas share them; the client
    address is the one uvicorn reports (behind a reverse proxy, run it with proxy headers)."""

    live: LiveVisitors = field(default_factory=LiveVisitors)
    # The core's gateway once the app has started: reaches sockets held by other replicas.
    gateway: InboundGateway | None = None


def visitor_from_token(gateway: InboundGateway, channel: Channel, token: str | None) -> Visitor:
    if not token:
        raise WebhookRejected(401, "No visitor token",
                              "send the visitor token from POST /webchat/{channel_id}/session")
    try:
        return verify(gateway.signing_key(SIGNING_PURPOSE), token, channel.id)
    except InvalidToken as exc:
        raise WebhookRejected(401, "Invalid visitor token", str(exc)) from None


def bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def resumed_visitor(gateway: InboundGateway, channel: Channel,
                    token: str | None) -> Visitor | None:
    """The visitor a session request's token names; None when there is none or it does not
    verify (a stale or foreign token just starts a new visitor)."""
    if not token:
        return None
    try:
        return verify(gateway.signing_key(SIGNING_PURPOSE), token, channel.id)
    except InvalidToken:
        return None


def open_session(channel: Channel, body: WebchatSessionRequest,
                 previous: Visitor | None) -> Visitor:
    """The visitor a (re)loaded page is: the token's, or a new one; the site user if proven."""
    now = int(time.time())
    if body.user is not None:
        secret = str(channel.config.get("identity_secret", ""))
        if not identity_hash_valid(secret, body.user.user_id, body.user.identity_hash):
            raise WebhookRejected(403, "Identity not verified",
                                  "identity_hash is not HMAC-SHA256(identity secret, user_id)")
        user = StoredUser(user_id=body.user.user_id, identity_hash=body.user.identity_hash,
                          email=body.user.email, name=body.user.name)
        return Visitor(channel.id, verified_visitor_id(channel.id, user.user_id), now, user)
    if previous is not None and previous.user is None:
        return Visitor(channel.id, previous.visitor_id, now)
    # No token, or the site's user logged out: a shared computer must not show their chat.
    return Visitor(channel.id, new_visitor_id(), now)


def token_for(gateway: InboundGateway, visitor: Visitor) -> str:
    return issue(gateway.signing_key(SIGNING_PURPOSE), visitor)


def _now() -> datetime:
    return datetime.now(UTC)


async def accept_message(gateway: InboundGateway, channel: Channel, visitor: Visitor,
                         message: WebchatVisitorMessage) -> MessageEvent:
    """Store one visitor message (a retry with the same id is a no-op) and return it."""
    if not message.text.strip() and not message.attachments:
        raise WebhookRejected(422, "Empty message", "a message needs text or an attachment")
    await count_visitor(gateway, channel, visitor)
    files = [await _own_file(gateway, channel, visitor, file_id)
             for file_id in message.attachments]
    profile = message.profile
    event = MessageEvent(
        kind="message", visitor_id=visitor.visitor_id, client_message_id=message.id,
        text=message.text, sent_at=_now(),
        name=profile.name.strip() or None if profile and profile.name else None,
        email=profile.email.strip() or None if profile and profile.email else None,
        user=visitor.user, attachments=files,
    )
    payload = event.model_dump_json(exclude_none=True).encode()
    await gateway.accept(channel, f"m:{visitor.visitor_id}/{message.id}", payload,
                         "application/json")
    return event


async def accept_read(gateway: InboundGateway, channel: Channel, visitor: Visitor,
                      message_ids: list[int]) -> list[str]:
    """Read receipts, only for messages in this visitor's own history."""
    wanted = set(message_ids)
    history = await gateway.history(channel, visitor.visitor_id, None, 200)
    own = sorted(item.id for item in history
                 if item.direction == "outbound" and item.id in wanted)
    if not own:
        return []
    external = [f"wc-{message_id}" for message_id in own]
    event = ReadEvent(kind="read", visitor_id=visitor.visitor_id, message_ids=external,
                      read_at=_now())
    digest = hashlib.sha256(",".join(external).encode()).hexdigest()[:32]
    await gateway.accept(channel, f"r:{visitor.visitor_id}/{digest}",
                         event.model_dump_json().encode(), "application/json")
    return external


async def accept_choice(gateway: InboundGateway, channel: Channel, visitor: Visitor,
                        choice_id: str) -> None:
    """A tap on one of the choices under our message (survey stars); the same tap twice is
    stored once, and what it means is the core's to check (the ids are signed)."""
    await count_visitor(gateway, channel, visitor)
    event = ChoiceEvent(kind="choice", visitor_id=visitor.visitor_id, choice_id=choice_id,
                        chosen_at=_now())
    digest = hashlib.sha256(choice_id.encode()).hexdigest()[:32]
    await gateway.accept(channel, f"c:{visitor.visitor_id}/{digest}",
                         event.model_dump_json().encode(), "application/json")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def echo_frame(event: MessageEvent) -> dict[str, Any]:
    """The visitor's own message, for their other open tabs."""
    return {"type": "message", "message": {
        "id": event.client_message_id, "direction": "inbound", "text": event.text,
        "sent_at": _iso(event.sent_at), "status": "received",
        "attachments": [{"url": a.url, "mime_type": a.mime_type, "filename": a.filename}
                        for a in event.attachments]}}


def history_view(items: list[HistoryItem], channel: Channel) -> list[dict[str, Any]]:
    """Items for the widget; an offline reply's e-mail copy would show twice, so it is hidden."""
    email_channel = channel.config.get("email_channel_id")
    live_texts = {i.text for i in items if i.direction == "outbound" and i.channel_id == channel.id}
    return [
        {"id": i.id, "direction": i.direction, "text": i.text,
         "sent_at": _iso(i.sent_at),
         "status": i.status,
         "attachments": [{k: a.get(k) for k in ("url", "mime_type", "filename")}
                         for a in i.attachments]}
        for i in items
        if not (i.direction == "outbound" and email_channel and i.channel_id == email_channel
                and i.text in live_texts)
    ]


def file_path(channel_id: str, file_id: str) -> str:
    """Where the visitor downloads its upload, relative to the service: never built from the
    request's Host header, and the widget prefixes the origin it was loaded from."""
    return f"/webchat/{channel_id}/files/{file_id}"


async def store_file(gateway: InboundGateway, channel: Channel, visitor: Visitor,
                     data: bytes, mime_type: str, filename: str | None) -> FileRef:
    if not data:
        raise WebhookRejected(422, "Empty file", "the upload has no bytes")
    if len(data) > MAX_FILE_BYTES:
        raise WebhookRejected(413, "File too large",
                              f"files are limited to {MAX_FILE_BYTES} bytes")
    try:
        stored = await gateway.store_upload(channel, visitor.visitor_id, data,
                                            mime_type[:200] or "application/octet-stream",
                                            (filename or "")[:300] or None)
    except UploadRefused as exc:
        if exc.scope == "channel":
            raise WebhookRejected(507, "Upload storage full", exc.detail) from None
        raise WebhookRejected(413, "Upload quota reached", exc.detail) from None
    return _ref(channel, stored)


def _ref(channel: Channel, stored: StoredUpload) -> FileRef:
    return FileRef(file_id=stored.id, url=file_path(channel.id, stored.id),
                   mime_type=stored.mime_type, filename=stored.filename, size=stored.size)


async def load_file(gateway: InboundGateway, channel: Channel, file_id: str) -> StoredUpload:
    """The upload with its bytes: 404 if there is none, 410 once it expired."""
    try:
        stored = await gateway.load_upload(channel, file_id) if _FILE_ID.match(file_id) \
            else None
    except UploadGone as exc:
        raise WebhookRejected(410, "File expired", str(exc)) from None
    if stored is None:
        raise WebhookRejected(404, "No such file", f"file {file_id} does not exist")
    return stored


async def _own_file(gateway: InboundGateway, channel: Channel, visitor: Visitor,
                    file_id: str) -> FileRef:
    try:
        stored = await load_file(gateway, channel, file_id)
    except WebhookRejected:
        raise WebhookRejected(422, "Unknown attachment",
                              f"attachment {file_id} was not uploaded by this visitor") from None
    if stored.owner != visitor.visitor_id:
        raise WebhookRejected(422, "Unknown attachment",
                              f"attachment {file_id} was not uploaded by this visitor")
    return _ref(channel, stored)
