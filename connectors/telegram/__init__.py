"""Telegram: Bot API webhook or long polling in, aiogram's Bot out."""
