"""WhatsApp notification → inbound items.

One notification may carry several entries, each several changes, each several messages and
statuses. Message handlers sit in a dict keyed by the message `type`; known types we keep no
record of are listed in IGNORED_MESSAGE_TYPES; anything else raises `UnsupportedWhatsAppEvent`
so the stored event is marked failed, visible and replayable instead of silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from connectors.base import (
    ActionEvent,
    Attachment,
    DeliveryStatus,
    IdentityHint,
    InboundItem,
    InboundMessage,
    RawEvent,
    StatusUpdate,
    Unreadable,
)
from connectors.whatsapp.schemas import (
    Contact,
    Media,
    Message,
    MessagesEnvelope,
    Notification,
    Status,
)

log = logging.getLogger("omniroute.whatsapp")

OBJECT = "whatsapp_business_account"

# Webhook fields a WhatsApp Business Account can be subscribed to besides `messages`; none of
# them is about a customer's conversation, so they are stored but produce nothing.
IGNORED_FIELDS = frozenset({
    "account_alerts", "account_review_update", "account_settings_update", "account_update",
    "automatic_events", "business_capability_update", "business_status_update", "calls",
    "flows", "history", "message_echoes", "message_template_components_update",
    "message_template_quality_update", "message_template_status_update",
    "partner_solutions", "payment_configuration_update", "phone_number_name_update",
    "phone_number_quality_update", "security", "smb_app_state_sync", "smb_message_echoes",
    "template_category_update", "tracking_events", "user_preferences",
})

# `request_welcome`: the user opened the chat for the first time and has not written yet.
IGNORED_MESSAGE_TYPES = frozenset({"request_welcome"})

STATUS_MAP: dict[str, DeliveryStatus] = {
    "sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed",
}
# `played` (voice message played) adds nothing to `read`; `deleted` is a legacy status.
IGNORED_STATUSES = frozenset({"played", "deleted"})


class UnsupportedWhatsAppEvent(ValueError):
    """A field, message type or status this connector does not know; the event is kept."""


@dataclass(frozen=True, slots=True)
class Sender:
    channel_id: str
    wa_id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Content:
    """What a message handler extracts; the envelope fields are common to all types."""

    text: str
    attachments: tuple[Attachment, ...] = ()
    meta: Mapping[str, Any] | None = None
    reply_to: str | None = None
    action: tuple[str, str] | None = None
    automatic: bool = False


def _at(timestamp: str) -> datetime:
    if not timestamp.isdigit():
        raise ValueError(f"WhatsApp timestamp is not unix seconds: {timestamp!r}")
    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def _need(value: Any, message: Message) -> Any:
    if value is None:
        raise ValueError(f"WhatsApp {message.type} message {message.id} lacks its "
                         f"{message.type!r} object")
    return value


def _media_attachment(kind: Any, media: Media) -> Attachment:
    meta: dict[str, Any] = {}
    if media.sha256:
        meta["sha256"] = media.sha256
    if media.caption:
        meta["caption"] = media.caption
    if media.animated is not None:
        meta["animated"] = media.animated
    return Attachment(kind=kind, mime_type=media.mime_type, filename=media.filename,
                      provider_ref=media.id, meta=meta)


def _media(field: str, kind: str) -> Callable[[Message], Content]:
    def handle(message: Message) -> Content:
        media: Media = _need(getattr(message, field), message)
        real_kind = "voice" if field == "audio" and media.voice else kind
        return Content(text=media.caption or "", attachments=(_media_attachment(real_kind, media),))
    return handle


def _text(message: Message) -> Content:
    return Content(text=_need(message.text, message).body)


def _location(message: Message) -> Content:
    place = _need(message.location, message)
    meta = {k: v for k, v in place.model_dump().items() if v is not None}
    label = ", ".join(p for p in (place.name, place.address) if p)
    return Content(text=label, attachments=(Attachment(kind="location", meta=meta),))


def _contacts(message: Message) -> Content:
    shared = _need(message.contacts, message)
    attachments = []
    for card in shared:
        meta = card.model_dump(exclude_none=True)
        attachments.append(Attachment(kind="contact", meta=meta))
    return Content(text="", attachments=tuple(attachments))


def _interactive(message: Message) -> Content:
    interactive = _need(message.interactive, message)
    choice = {"button_reply": interactive.button_reply,
              "list_reply": interactive.list_reply}.get(interactive.type)
    if choice is None:
        raise UnsupportedWhatsAppEvent(
            f"WhatsApp interactive reply of type {interactive.type!r} is not supported")
    meta: dict[str, Any] = {"reply_id": choice.id, "reply_kind": interactive.type}
    if choice.description:
        meta["reply_description"] = choice.description
    return Content(text=choice.title, meta=meta, action=(choice.id, choice.title))


def _button(message: Message) -> Content:
    button = _need(message.button, message)
    payload = button.payload or button.text
    return Content(text=button.text, meta={"reply_id": payload, "reply_kind": "template_button"},
                   action=(payload, button.text))


def _reaction(message: Message) -> Content:
    reaction = _need(message.reaction, message)
    # An empty emoji is the customer taking their reaction back.
    return Content(text=reaction.emoji or "", reply_to=reaction.message_id,
                   meta={"reaction": reaction.emoji or "", "reaction_removed": not reaction.emoji})


def _unsupported(message: Message) -> Content:
    errors = [e.model_dump(exclude_none=True) for e in message.errors]
    return Content(text="", meta={"unsupported": True, "errors": errors})


def _system(message: Message) -> Content:
    system = _need(message.system, message)
    meta = {k: v for k, v in system.model_dump().items() if v is not None}
    return Content(text=system.body or "", meta={"system": meta}, automatic=True)


MESSAGE_HANDLERS: dict[str, Callable[[Message], Content]] = {
    "text": _text,
    "image": _media("image", "image"),
    "audio": _media("audio", "audio"),
    "video": _media("video", "video"),
    "document": _media("document", "document"),
    "sticker": _media("sticker", "sticker"),
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "button": _button,
    "reaction": _reaction,
    "unsupported": _unsupported,
    "system": _system,
}


def _sender(channel_id: str, message: Message, contacts: list[Contact]) -> Sender:
    # `from` may differ from the contact's wa_id (Brazil/Mexico numbers); wa_id is the one
    # Meta tells us to reply to, so it is the identity.
    by_id = {c.wa_id: c for c in contacts}
    contact = by_id.get(message.from_) or (contacts[0] if len(contacts) == 1 else None)
    wa_id = contact.wa_id if contact else message.from_
    name = contact.profile.name if contact and contact.profile else None
    return Sender(channel_id, wa_id, name or None)


def _message_items(sender: Sender, message: Message) -> list[InboundItem]:
    handler = MESSAGE_HANDLERS.get(message.type)
    if handler is None:
        raise UnsupportedWhatsAppEvent(
            f"WhatsApp message type {message.type!r} is not supported (message {message.id})")
    content = handler(message)
    meta: dict[str, Any] = {"type": message.type, **(content.meta or {})}
    context = message.context
    if context is not None and (context.forwarded or context.frequently_forwarded):
        meta["forwarded"] = True
    if message.referral:
        meta["referral"] = message.referral
    if message.errors and message.type != "unsupported":
        meta["errors"] = [e.model_dump(exclude_none=True) for e in message.errors]
    at = _at(message.timestamp)
    digits = sender.wa_id.lstrip("+")
    items: list[InboundItem] = [InboundMessage(
        channel_id=sender.channel_id,
        external_user_id=digits,
        external_message_id=message.id,
        sent_at=at,
        text=content.text,
        attachments=content.attachments,
        reply_to_external_id=content.reply_to or (context.id if context else None),
        name=sender.name,
        hints=(IdentityHint("phone", "+" + digits, verified=True),),
        user_verified=True,
        automatic=content.automatic,
        meta=meta,
    )]
    if content.action is not None:
        action_id, data = content.action
        items.append(ActionEvent(channel_id=sender.channel_id, external_user_id=digits,
                                 action_id=action_id, data=data, at=at,
                                 external_message_id=context.id if context else None))
    return items


def _status_item(channel_id: str, status: Status) -> StatusUpdate | None:
    if status.status in IGNORED_STATUSES:
        return None
    mapped = STATUS_MAP.get(status.status)
    if mapped is None:
        raise UnsupportedWhatsAppEvent(f"WhatsApp status {status.status!r} is not supported")
    error = None
    if mapped == "failed":
        error = "; ".join(e.describe() for e in status.errors) or "failed (no reason given)"
    return StatusUpdate(channel_id=channel_id, external_message_id=status.id, status=mapped,
                        at=_at(status.timestamp), error=error)


def _messages_change(channel_id: str, own_number: str | None,
                     raw_value: dict[str, Any]) -> list[InboundItem]:
    try:
        value = MessagesEnvelope.model_validate(raw_value)
    except ValidationError as exc:
        raise ValueError(f"invalid WhatsApp messages value: {_fields(exc)}") from exc
    if own_number and value.metadata.phone_number_id != own_number:
        # Meta sends every number of the app to one callback URL; another channel owns these.
        log.info("skipping a change for phone number %s on channel %s",
                 value.metadata.phone_number_id, channel_id)
        return []
    items: list[InboundItem] = []
    for position, raw_message in enumerate(value.messages):
        items.extend(_each(channel_id, "message", position, raw_message,
                           lambda m: _one_message(channel_id, value.contacts, m)))
    for position, raw_status in enumerate(value.statuses):
        items.extend(_each(channel_id, "status", position, raw_status,
                           lambda s: _one_status(channel_id, s)))
    for error in value.errors:
        # Account- or system-level trouble has no customer to attach to; the raw event is
        # kept, and the log says what Meta reported.
        log.warning("WhatsApp reported an error on channel %s: %s", channel_id, error.describe())
    return items


def _one_message(channel_id: str, contacts: list[Contact], raw: Any) -> list[InboundItem]:
    message = Message.model_validate(raw)
    if message.type in IGNORED_MESSAGE_TYPES:
        return []
    return _message_items(_sender(channel_id, message, contacts), message)


def _one_status(channel_id: str, raw: Any) -> list[InboundItem]:
    update = _status_item(channel_id, Status.model_validate(raw))
    return [update] if update is not None else []


def _each(channel_id: str, what: str, position: int, raw: Any,
          read: Callable[[Any], list[InboundItem]]) -> list[InboundItem]:
    """One message or status of a notification; if it cannot be read, an `Unreadable` report
    naming it (by id, never its text) instead, so the others still land."""
    try:
        return read(raw)
    except (ValidationError, ValueError) as exc:
        ident = raw.get("id") if isinstance(raw, dict) else None
        why = _fields(exc) if isinstance(exc, ValidationError) else str(exc)
        return [Unreadable(channel_id, f"WhatsApp {what} {ident or f'#{position}'}: {why}",
                           cause=exc)]


def _fields(exc: ValidationError) -> str:
    return ", ".join(sorted({".".join(str(p) for p in e["loc"]) + f" ({e['type']})"
                             for e in exc.errors()}))


def parse_notification(raw: RawEvent) -> list[InboundItem]:
    try:
        notification = Notification.model_validate_json(raw.payload)
    except ValidationError as exc:
        raise ValueError(f"invalid WhatsApp notification: {exc.error_count()} errors") from exc
    if notification.object != OBJECT:
        raise UnsupportedWhatsAppEvent(f"WhatsApp webhook object {notification.object!r} "
                                       f"is not {OBJECT!r}")
    own_number = raw.channel_config.get("phone_number_id")
    items: list[InboundItem] = []
    for entry in notification.entry:
        for change in entry.changes:
            if change.field == "messages":
                items.extend(_messages_change(raw.channel_id,
                                              str(own_number) if own_number else None,
                                              change.value))
            elif change.field not in IGNORED_FIELDS:
                raise UnsupportedWhatsAppEvent(
                    f"WhatsApp webhook field {change.field!r} is not supported")
    bad = [item for item in items if isinstance(item, Unreadable)]
    if bad and len(bad) == len(items):
        # Nothing in it could be read: the event fails as a whole, kept and replayable.
        cause = bad[0].cause
        if cause is not None and not isinstance(cause, ValidationError):
            raise cause
        raise ValueError(bad[0].reason) from cause
    return items
