"""One aiogram Bot per (token, Bot API server), shared by sends, polling and downloads."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from connectors.telegram.schemas import TelegramChannelConfig

# Per-request ceiling; the outbox's own send timeout usually ends a stuck call first.
REQUEST_TIMEOUT_SECONDS = 30


class BotPool:
    def __init__(self) -> None:
        self._bots: dict[tuple[str, str], Bot] = {}

    def bot(self, config: TelegramChannelConfig) -> Bot:
        key = (config.bot_token, config.api_base_url)
        bot = self._bots.get(key)
        if bot is None:
            server = TelegramAPIServer.from_base(config.api_base_url)
            session = AiohttpSession(api=server, timeout=REQUEST_TIMEOUT_SECONDS)
            bot = Bot(config.bot_token, session=session)
            self._bots[key] = bot
        return bot

    async def close(self) -> None:
        bots, self._bots = list(self._bots.values()), {}
        for bot in bots:
            await bot.session.close()
