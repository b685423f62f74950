"""One stored Telegram update → the items the core applies.

Handlers are keyed by the update's kind (the one field next to `update_id`). Kinds we never
ask for but could still receive are named in IGNORED_KINDS; anything else is a typed error,
so a new Bot API update kind shows up as a failed event instead of vanishing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update
from pydantic import ValidationError

from connectors.base import (
    ActionEvent,
    IdentityHint,
    InboundItem,
    InboundMessage,
    MessageEdit,
    RawEvent,
    ReachabilityChange,
)
from connectors.telegram.chats import IGNORED_CHAT_TYPES, message_ref
from connectors.telegram.lenient import read_leniently
from connectors.telegram.media import CONTENT_READERS, attachments_of


class UnsupportedUpdateKind(ValueError):
    """An update kind this connector neither handles nor knowingly ignores."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"unsupported Telegram update kind {kind!r}")
        self.kind = kind


# Update kinds that can reach a bot but mean nothing for a support thread (yet).
IGNORED_KINDS = frozenset({
    "channel_post", "edited_channel_post", "business_connection", "business_message",
    "edited_business_message", "deleted_business_messages", "message_reaction",
    "message_reaction_count", "inline_query", "chosen_inline_result", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "chat_member",
    "chat_join_request", "chat_boost", "removed_chat_boost",
})

# Service messages in a private chat: Telegram's own notes, not something the customer said.
IGNORED_CONTENT = frozenset({
    "pinned_message", "message_auto_delete_timer_changed", "write_access_allowed",
    "chat_background_set", "connected_website", "proximity_alert_triggered",
    "users_shared", "chat_shared", "new_chat_members", "left_chat_member",
    "new_chat_title", "new_chat_photo", "delete_chat_photo",
})

# Message content we turn into text and attachments; other content (dice, polls, games,
# stories, ...) still reaches the thread as a labelled note so nothing the customer sent is lost.
SUPPORTED_CONTENT = frozenset({"text", *CONTENT_READERS})


def update_kind(payload: dict[str, Any]) -> str:
    kinds = [key for key in payload if key != "update_id"]
    if len(kinds) != 1:
        raise ValueError(f"a Telegram update carries exactly one kind, found {sorted(kinds)}")
    return kinds[0]


def content_kind(message: Message) -> str:
    """aiogram's ContentType name ("photo", "text", "dice", ...) as a plain string."""
    kind: object = message.content_type
    return kind.value if isinstance(kind, Enum) else str(kind)


def _entities(message: Message, caption: bool) -> list[dict[str, Any]]:
    found = message.caption_entities if caption else message.entities
    return [e.model_dump(mode="json", exclude_none=True) for e in found or []]


def _forward_origin(message: Message) -> dict[str, Any] | None:
    if message.forward_origin is None:
        return None
    dumped: dict[str, Any] = message.forward_origin.model_dump(
        mode="json", exclude_none=True, by_alias=True)
    return dumped


def _text_of(message: Message) -> str:
    return message.text if message.text is not None else (message.caption or "")


def _message(update: Update, raw: RawEvent) -> list[InboundItem]:
    message = update.message
    assert message is not None
    if message.chat.type in IGNORED_CHAT_TYPES or message.from_user is None:
        return []
    content = content_kind(message)
    if content in IGNORED_CONTENT:
        return []
    sender = message.from_user
    text = _text_of(message)
    meta: dict[str, Any] = {"content_type": content}
    if sender.username:
        meta["username"] = sender.username
    if sender.language_code:
        meta["language_code"] = sender.language_code
    entities = _entities(message, caption=message.text is None)
    if entities:
        meta["entities"] = entities
    origin = _forward_origin(message)
    if origin is not None:
        meta["forward_origin"] = origin
    if message.media_group_id:
        meta["media_group_id"] = message.media_group_id
    if content not in SUPPORTED_CONTENT:
        text = text or f"[Telegram {content.replace('_', ' ')}: not shown here]"
    hints: tuple[IdentityHint, ...] = ()
    # Only a contact the user shared of themself proves the phone is theirs; Telegram's
    # request_contact button produces exactly that (contact.user_id == sender id).
    if message.contact is not None and message.contact.user_id == sender.id:
        hints = (IdentityHint(kind="phone", value=message.contact.phone_number, verified=True),)
    reply_to = (message_ref(message.chat.id, message.reply_to_message.message_id)
                if message.reply_to_message is not None else None)
    return [InboundMessage(
        channel_id=raw.channel_id,
        external_user_id=str(sender.id),
        external_message_id=message_ref(message.chat.id, message.message_id),
        sent_at=message.date.astimezone(UTC),
        text=text,
        attachments=attachments_of(message),
        reply_to_external_id=reply_to,
        name=sender.full_name,
        hints=hints,
        user_verified=True,
        part_of=message.media_group_id,
        meta=meta,
    )]


def _edited_message(update: Update, raw: RawEvent) -> list[InboundItem]:
    message = update.edited_message
    assert message is not None
    if message.chat.type in IGNORED_CHAT_TYPES:
        return []
    if message.text is None and message.caption is None:
        # A live location moving (an edit every few seconds) or media swapped without a
        # caption: there is no text to update.
        return []
    edited_at = message.edit_date or message.date
    if isinstance(edited_at, int):
        edited_at = datetime.fromtimestamp(edited_at, UTC)
    return [MessageEdit(
        channel_id=raw.channel_id,
        external_message_id=message_ref(message.chat.id, message.message_id),
        text=_text_of(message),
        edited_at=edited_at.astimezone(UTC),
    )]


def _callback_query(update: Update, raw: RawEvent) -> list[InboundItem]:
    query: CallbackQuery | None = update.callback_query
    assert query is not None
    origin = query.message
    if origin is not None and origin.chat.type in IGNORED_CHAT_TYPES:
        return []
    return [ActionEvent(
        channel_id=raw.channel_id,
        external_user_id=str(query.from_user.id),
        action_id=query.id,
        data=query.data or query.game_short_name or "",
        # A callback query has no date of its own; it reached us just now.
        at=raw.received_at.astimezone(UTC),
        external_message_id=(message_ref(origin.chat.id, origin.message_id)
                             if origin is not None else None),
    )]


def _my_chat_member(update: Update, raw: RawEvent) -> list[InboundItem]:
    change: ChatMemberUpdated | None = update.my_chat_member
    assert change is not None
    if change.chat.type in IGNORED_CHAT_TYPES:
        return []
    status = change.new_chat_member.status
    if status not in ("kicked", "member"):
        return []
    return [ReachabilityChange(
        channel_id=raw.channel_id,
        external_user_id=str(change.chat.id),
        reachable=status == "member",
        at=change.date.astimezone(UTC),
    )]


HANDLERS: dict[str, Callable[[Update, RawEvent], list[InboundItem]]] = {
    "message": _message,
    "edited_message": _edited_message,
    "callback_query": _callback_query,
    "my_chat_member": _my_chat_member,
}


def parse_update(raw: RawEvent) -> list[InboundItem]:
    try:
        payload = json.loads(raw.payload)
    except ValueError as exc:
        raise ValueError(f"a Telegram update must be JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValueError("a Telegram update must be a JSON object")
    kind = update_kind(payload)
    if kind in IGNORED_KINDS:
        return []
    handler = HANDLERS.get(kind)
    if handler is None:
        raise UnsupportedUpdateKind(kind)
    try:
        update = Update.model_validate(payload)
    except ValidationError as exc:
        # A Bot API version the model does not match: what can be read still reaches the
        # thread (connectors/telegram/lenient.py); the error names the invalid fields.
        return read_leniently(kind, payload, raw, handler, exc)
    return handler(update, raw)
