"""Long polling for machines without a public URL: getUpdates with a persisted offset.

Each batch of updates is stored and the offset advanced in ONE transaction, and Telegram only
forgets updates once we ask with a higher offset: a crash or restart anywhere in the loop
neither loses an update nor stores one twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramConflictError,
    TelegramRetryAfter,
)
from aiogram.methods import TelegramMethod

from connectors.base import Channel, InboundGateway
from connectors.telegram.schemas import ALLOWED_UPDATES

log = logging.getLogger("omniroute.telegram.polling")

OFFSET_KEY = "offset"
# Telegram holds a getUpdates call open this long when there is nothing new.
POLL_TIMEOUT_SECONDS = 25
BACKOFF_START_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates answered as plain JSON objects, so we store exactly what Telegram sent."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


def _raw_events(updates: list[dict[str, Any]]) -> tuple[list[tuple[str, bytes, str]], int]:
    events: list[tuple[str, bytes, str]] = []
    highest = -1
    for update in updates:
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            raise ValueError("Telegram sent an update without an integer update_id")
        highest = max(highest, update_id)
        body = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()
        events.append((str(update_id), body, "application/json"))
    return events, highest + 1


async def _answer_callbacks(bot: Bot, updates: list[dict[str, Any]]) -> None:
    """Stop the spinner on the customer's button; losing this only costs a spinner."""
    for update in updates:
        query = update.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("id"), str):
            try:
                await bot.answer_callback_query(query["id"])
            except AiogramError as exc:
                log.info("answerCallbackQuery failed: %s", exc)


async def poll(bot: Bot, channel: Channel, gateway: InboundGateway) -> None:
    """Run until cancelled; Bot API and network failures back off, storage failures raise."""
    stored = await gateway.load_state(channel.id, OFFSET_KEY)
    offset = int(stored) if stored else None
    delay = BACKOFF_START_SECONDS
    webhook_cleared = False
    first_answer = True
    while True:
        try:
            if not webhook_cleared:
                # getUpdates is refused (409) while a webhook is set.
                await bot.delete_webhook(drop_pending_updates=False)
                webhook_cleared = True
            updates = await bot(
                GetRawUpdates(offset=offset, timeout=POLL_TIMEOUT_SECONDS,
                              allowed_updates=list(ALLOWED_UPDATES)),
                request_timeout=POLL_TIMEOUT_SECONDS + 10)
        except TelegramRetryAfter as exc:
            await asyncio.sleep(exc.retry_after)
            continue
        except AiogramError as exc:
            if isinstance(exc, TelegramConflictError):
                webhook_cleared = False
            log.warning("getUpdates for channel %s failed (%s); retrying in %.1fs",
                        channel.id, exc, delay)
            if not isinstance(exc, TelegramConflictError):
                # A revoked bot token or an unreachable Bot API shows on the channel.
                await gateway.report_health(channel.id, False, f"getUpdates: {exc}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)
            continue
        if delay != BACKOFF_START_SECONDS or first_answer:
            await gateway.report_health(channel.id, True)
            first_answer = False
        delay = BACKOFF_START_SECONDS
        if not updates:
            continue
        events, next_offset = _raw_events(updates)
        await gateway.accept_and_save_state(channel, events, OFFSET_KEY, str(next_offset))
        offset = next_offset
        await _answer_callbacks(bot, updates)
