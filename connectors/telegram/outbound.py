"""One OutboundMessage → the Bot API calls that deliver it, in order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from connectors.base import DeliveryError, OutboundAttachment, OutboundMessage
from connectors.fetch import GuardedFetcher
from connectors.telegram.chats import message_ref, split_ref
from connectors.telegram.schemas import CALLBACK_DATA_LIMIT, MESSAGE_TEXT_LIMIT
from connectors.telegram.textsplit import split_text
from connectors.telegram.upload import FetchedInputFile, fetched

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup
# One Bot API call; it gets the markup and reply target only when it is the one to carry them.
Step = Callable[[Markup | None, ReplyParameters | None], Awaitable[Message]]

# Labels this short (CSAT "1".."5", "Yes"/"No") sit side by side, like Telegram's own polls.
SHORT_LABEL = 4
SHORT_ROW = 5
# Telegram fetches a URL itself; these answers mean it could not, so we upload the file.
_FETCH_FAILED = ("failed to get http url content", "wrong file identifier/http url specified",
                 "wrong type of the web page content", "webpage_curl_failed",
                 "webpage_media_empty", "wrong remote file identifier specified")


@dataclass(frozen=True, slots=True)
class Plan:
    chat_id: int
    steps: list[Step]
    markup: Markup | None
    reply: ReplyParameters | None


def _chat_id(msg: OutboundMessage) -> int:
    try:
        return int(msg.recipient.external_user_id)
    except ValueError:
        raise DeliveryError(f"{msg.recipient.external_user_id!r} is not a Telegram chat id",
                            retryable=False) from None


def _markup(msg: OutboundMessage) -> Markup | None:
    if msg.buttons and msg.request_contact:
        raise DeliveryError("Telegram cannot show buttons and the share-phone button on the "
                            "same message; send them as two replies", retryable=False)
    if msg.request_contact:
        return ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Share my phone number", request_contact=True)]],
            resize_keyboard=True, one_time_keyboard=True)
    if not msg.buttons:
        return None
    for button in msg.buttons:
        if len(button.id.encode()) > CALLBACK_DATA_LIMIT:
            raise DeliveryError(f"button id {button.id[:20]!r}... is over Telegram's "
                                f"{CALLBACK_DATA_LIMIT}-byte callback_data limit",
                                retryable=False)
    keys = [InlineKeyboardButton(text=b.title, callback_data=b.id) for b in msg.buttons]
    if all(len(b.title) <= SHORT_LABEL for b in msg.buttons):
        rows = [keys[i:i + SHORT_ROW] for i in range(0, len(keys), SHORT_ROW)]
    else:
        rows = [[key] for key in keys]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _reply(msg: OutboundMessage, chat_id: int) -> ReplyParameters | None:
    if not msg.reply_to_external_id:
        return None
    ref = split_ref(msg.reply_to_external_id)
    if ref is None or ref[0] != chat_id:
        return None
    # Quote when the customer's message still exists; otherwise send without the quote.
    return ReplyParameters(message_id=ref[1], allow_sending_without_reply=True)


def _text_step(bot: Bot, chat_id: int, text: str) -> Step:
    async def step(markup: Markup | None, reply: ReplyParameters | None) -> Message:
        return await bot.send_message(chat_id, text, reply_markup=markup, reply_parameters=reply)
    return step


async def _send_file(bot: Bot, chat_id: int, item: OutboundAttachment, file: str | FetchedInputFile,
                     markup: Markup | None, reply: ReplyParameters | None) -> Message:
    mime = (item.mime_type or "").lower()
    if mime == "image/gif":
        return await bot.send_animation(chat_id, file, reply_markup=markup,
                                        reply_parameters=reply)
    if mime.startswith("image/"):
        return await bot.send_photo(chat_id, file, reply_markup=markup, reply_parameters=reply)
    if mime.startswith("video/"):
        return await bot.send_video(chat_id, file, reply_markup=markup, reply_parameters=reply)
    if mime == "audio/ogg":
        return await bot.send_voice(chat_id, file, reply_markup=markup, reply_parameters=reply)
    if mime.startswith("audio/"):
        return await bot.send_audio(chat_id, file, reply_markup=markup, reply_parameters=reply)
    return await bot.send_document(chat_id, file, reply_markup=markup, reply_parameters=reply)


def _attachment_step(bot: Bot, chat_id: int, item: OutboundAttachment,
                     fetcher: GuardedFetcher) -> Step:
    async def step(markup: Markup | None, reply: ReplyParameters | None) -> Message:
        try:
            return await _send_file(bot, chat_id, item, item.url, markup, reply)
        except TelegramBadRequest as exc:
            if not any(hint in exc.message.lower() for hint in _FETCH_FAILED):
                raise
        # Telegram cannot reach the URL (auth, a site that blocks it): fetch it and upload
        # it, through the guarded fetcher like every URL someone else chose.
        upload = await fetched(fetcher, item)
        try:
            return await _send_file(bot, chat_id, item, upload, markup, reply)
        except Exception:
            if upload.failure is not None:
                raise upload.failure from None
            raise
        finally:
            await upload.stream.aclose()
    return step


def plan(bot: Bot, msg: OutboundMessage, fetcher: GuardedFetcher) -> Plan:
    chat_id = _chat_id(msg)
    steps: list[Step] = [_text_step(bot, chat_id, part)
                         for part in split_text(msg.text, MESSAGE_TEXT_LIMIT)]
    steps += [_attachment_step(bot, chat_id, item, fetcher) for item in msg.attachments]
    if not steps:
        raise DeliveryError("the message has neither text nor attachments", retryable=False)
    return Plan(chat_id=chat_id, steps=steps, markup=_markup(msg), reply=_reply(msg, chat_id))


async def run(plan: Plan, done: list[str]) -> list[str]:
    """Run the steps not yet in `done` (refs of earlier attempts), appending as they succeed."""
    last = len(plan.steps) - 1
    for index in range(len(done), len(plan.steps)):
        # The quote goes on the first message, the keyboard on the last one.
        sent = await plan.steps[index](plan.markup if index == last else None,
                                       plan.reply if index == 0 else None)
        done.append(message_ref(sent.chat.id, sent.message_id))
    return done
