"""Stored web-chat raw events → InboundItems; handlers keyed by the event's `kind`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from connectors.base import (
    ActionEvent,
    Attachment,
    IdentityHint,
    InboundItem,
    InboundMessage,
    RawEvent,
    StatusUpdate,
)
from connectors.webchat.schemas import ChoiceEvent, EventKind, FileRef, MessageEvent, ReadEvent
from connectors.webchat.tokens import identity_hash_valid, verified_visitor_id

# Kinds we store for the record but that produce nothing (none yet: typing is never stored).
IGNORED: frozenset[str] = frozenset()


def message_external_id(visitor_id: str, client_message_id: str) -> str:
    """Client ids are only unique per visitor (the browser makes them), so scope them."""
    return f"{visitor_id}/{client_message_id}"


class UnsupportedEventKind(ValueError):
    """A stored web-chat event of a kind this version does not know."""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _attachment(ref: FileRef) -> Attachment:
    mime = ref.mime_type or "application/octet-stream"
    return Attachment(kind="image" if mime.startswith("image/") else "file",
                      mime_type=ref.mime_type, filename=ref.filename, size=ref.size,
                      url=ref.url, provider_ref=ref.file_id)


def _message(raw: RawEvent, config: Mapping[str, Any]) -> list[InboundItem]:
    event = MessageEvent.model_validate_json(raw.payload)
    hints: list[IdentityHint] = []
    name = event.name
    verified = False
    external_user_id = event.visitor_id
    if event.user is not None:
        # Checked again here, not trusted from the event: the hash is the only proof.
        secret = str(config.get("identity_secret", ""))
        verified = bool(secret) and identity_hash_valid(secret, event.user.user_id,
                                                        event.user.identity_hash)
        external_user_id = verified_visitor_id(raw.channel_id, event.user.user_id)
        if event.user.email:
            hints.append(IdentityHint("email", event.user.email, verified=verified))
        name = event.user.name or name
    if event.email and all(h.value.lower() != event.email.lower() for h in hints):
        hints.append(IdentityHint("email", event.email, verified=False))
    meta: dict[str, Any] = {"client_message_id": event.client_message_id}
    return [InboundMessage(
        channel_id=raw.channel_id,
        external_user_id=external_user_id,
        external_message_id=message_external_id(event.visitor_id, event.client_message_id),
        sent_at=_utc(event.sent_at),
        text=event.text,
        attachments=tuple(_attachment(a) for a in event.attachments),
        name=name,
        hints=tuple(hints),
        user_verified=verified,
        meta=meta,
    )]


def _read(raw: RawEvent, config: Mapping[str, Any]) -> list[InboundItem]:
    event = ReadEvent.model_validate_json(raw.payload)
    return [StatusUpdate(channel_id=raw.channel_id, external_message_id=message_id,
                         status="read", at=_utc(event.read_at))
            for message_id in event.message_ids]


def _choice(raw: RawEvent, config: Mapping[str, Any]) -> list[InboundItem]:
    event = ChoiceEvent.model_validate_json(raw.payload)
    return [ActionEvent(channel_id=raw.channel_id, external_user_id=event.visitor_id,
                        action_id=event.choice_id, data=event.choice_id,
                        at=_utc(event.chosen_at))]


HANDLERS: dict[str, Callable[[RawEvent, Mapping[str, Any]], list[InboundItem]]] = {
    "message": _message,
    "read": _read,
    "choice": _choice,
}


def parse_event(raw: RawEvent) -> list[InboundItem]:
    try:
        kind = EventKind.model_validate_json(raw.payload).kind
    except ValidationError as exc:
        raise ValueError("a web-chat event must be a JSON object with a 'kind'") from exc
    if kind in IGNORED:
        return []
    handler = HANDLERS.get(kind)
    if handler is None:
        raise UnsupportedEventKind(f"unknown web-chat event kind {kind!r}")
    try:
        return handler(raw, raw.channel_config)
    except ValidationError as exc:
        raise ValueError(f"invalid web-chat {kind} event: {exc.error_count()} errors") from exc
