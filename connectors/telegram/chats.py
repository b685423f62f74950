"""Which Telegram chats we serve, and our ids for their messages."""

from __future__ import annotations

# We support customers in one-to-one chats with the bot; groups and channels come later.
IGNORED_CHAT_TYPES = frozenset({"group", "supergroup", "channel"})


def message_ref(chat_id: int, message_id: int) -> str:
    """Our external id for a Telegram message: message ids are only unique per chat."""
    return f"{chat_id}:{message_id}"


def split_ref(ref: str) -> tuple[int, int] | None:
    chat, sep, message = ref.partition(":")
    if not sep:
        return None
    try:
        return int(chat), int(message)
    except ValueError:
        return None
