"""Updates aiogram's strict model refuses, read leniently so the customer's message still
reaches the thread.

Real traffic comes from older and newer Bot API versions than aiogram's models: a sticker
without `file_unique_id`, a poll without the fields a later release made required. First the
parts the model refused are left out and the rest is read strictly (attachments and all); if
that still fails, sender, chat, time and text/caption are read by hand. Either way what could
not be read is named in a labelled placeholder ("[sticker — could not be read]") and reported
as an `Unreadable` item, so the stored event is marked partial with the invalid fields. When
not even the sender, chat and time can be read, the error names the invalid fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from aiogram.types import Update
from pydantic import ValidationError

from connectors.base import InboundItem, InboundMessage, MessageEdit, RawEvent, Unreadable
from connectors.telegram.chats import IGNORED_CHAT_TYPES, message_ref

# Fields of a message that are not something the customer sent (no placeholder for them).
ENVELOPE = frozenset({
    "message_id", "message_thread_id", "from", "sender_chat", "chat", "date", "edit_date",
    "reply_to_message", "external_reply", "quote", "reply_to_story", "forward_origin",
    "via_bot", "entities", "caption_entities", "link_preview_options", "reply_markup",
    "media_group_id", "author_signature", "business_connection_id", "sender_business_bot",
})
MESSAGE_KINDS = frozenset({"message", "edited_message"})
Handler = Callable[[Update, RawEvent], list[InboundItem]]


def invalid_fields(exc: ValidationError) -> list[str]:
    """`message.sticker.file_unique_id (missing)`, one per error, for people to read."""
    return sorted({".".join(str(p) for p in error["loc"]) + f" ({error['type']})"
                   for error in exc.errors()})


def placeholder(content: str) -> str:
    return f"[{content.replace('_', ' ')} \u2014 could not be read]"


def read_leniently(kind: str, payload: dict[str, Any], raw: RawEvent, handler: Handler,
                   exc: ValidationError) -> list[InboundItem]:
    fields = invalid_fields(exc)
    body = payload.get(kind)
    if kind not in MESSAGE_KINDS or not isinstance(body, dict):
        raise ValueError(f"invalid Telegram {kind} update: {', '.join(fields)}") from exc
    refused = {str(e["loc"][1]) for e in exc.errors()
               if len(e["loc"]) > 1 and e["loc"][0] == kind}
    contents = sorted(name for name in refused if name not in ENVELOPE)
    report = Unreadable(raw.channel_id, f"Telegram {kind} read leniently; "
                                        f"invalid: {', '.join(fields)}")
    items = _without(kind, payload, body, refused, raw, handler, contents)
    if items is None:
        items = _by_hand(kind, body, raw, contents, fields, exc)
    return [*items, report] if items else []


def _without(kind: str, payload: dict[str, Any], body: dict[str, Any], refused: set[str],
             raw: RawEvent, handler: Handler,
             contents: list[str]) -> list[InboundItem] | None:
    """The update read strictly without the parts the model refused; None if still invalid
    (or if what was refused is the sender, chat or time themselves)."""
    if refused & {"message_id", "from", "chat", "date"}:
        return None
    pruned = {**payload, kind: {k: v for k, v in body.items() if k not in refused}}
    try:
        update = Update.model_validate(pruned)
    except ValidationError:
        return None
    return [_labelled(item, contents) for item in handler(update, raw)]


def _labelled(item: InboundItem, contents: list[str]) -> InboundItem:
    if not contents or not isinstance(item, InboundMessage | MessageEdit):
        return item
    labels = "\n".join(placeholder(c) for c in contents)
    if isinstance(item, MessageEdit):
        return dataclasses.replace(item, text=f"{item.text}\n{labels}" if item.text else labels)
    # The strict read saw no content it knew, so its own "not shown" note gives way.
    text = "" if item.text.startswith("[Telegram ") else item.text
    meta = {**item.meta, "content_type": contents[0], "unreadable": contents}
    return dataclasses.replace(item, text=f"{text}\n{labels}" if text else labels, meta=meta)


def _by_hand(kind: str, body: dict[str, Any], raw: RawEvent, contents: list[str],
             fields: list[str], exc: ValidationError) -> list[InboundItem]:
    sender, chat = body.get("from"), body.get("chat")
    message_id, date = body.get("message_id"), body.get("date")
    if not (isinstance(sender, dict) and _is_id(sender.get("id")) and isinstance(chat, dict)
            and _is_id(chat.get("id")) and _is_id(message_id) and _is_id(date)):
        raise ValueError(f"invalid Telegram {kind} update: {', '.join(fields)}") from exc
    message_id, date = cast(int, message_id), cast(int, date)
    if chat.get("type") in IGNORED_CHAT_TYPES or sender.get("is_bot") is True:
        return []
    text = _text(body.get("text")) or _text(body.get("caption"))
    labels = [placeholder(c) for c in contents]
    shown = "\n".join([text, *labels] if text else labels)
    ref = message_ref(chat["id"], message_id)
    if kind == "edited_message":
        edited = cast(int, body["edit_date"]) if _is_id(body.get("edit_date")) else date
        return [MessageEdit(raw.channel_id, ref, shown, datetime.fromtimestamp(edited, UTC))]
    reply = body.get("reply_to_message")
    reply_ref = (message_ref(chat["id"], reply["message_id"])
                 if isinstance(reply, dict) and _is_id(reply.get("message_id")) else None)
    name = " ".join(p for p in (_text(sender.get("first_name")),
                                _text(sender.get("last_name"))) if p) or None
    meta: dict[str, Any] = {"content_type": contents[0] if contents else "text",
                            "unreadable": contents or ["message"]}
    if _text(sender.get("username")):
        meta["username"] = sender["username"]
    return [InboundMessage(
        channel_id=raw.channel_id, external_user_id=str(sender["id"]), external_message_id=ref,
        sent_at=datetime.fromtimestamp(date, UTC),
        text=shown or placeholder("message"), reply_to_external_id=reply_ref, name=name,
        user_verified=True, meta=meta)]


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
