"""Bot API failures → the outbox's DeliveryError (retry, give up, or mark unreachable)."""

from __future__ import annotations

from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from connectors.base import DeliveryError


def delivery_error(exc: AiogramError) -> DeliveryError:
    """Classify one failed Bot API call; order matters (429 can come with any status)."""
    if isinstance(exc, TelegramRetryAfter):
        return DeliveryError(f"Telegram flood control: {exc.message}", retryable=True,
                             retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramForbiddenError):
        # "bot was blocked by the user", "user is deactivated", "bot can't initiate
        # conversation with a user": in a private chat all mean this person is out of reach.
        return DeliveryError(exc.message, retryable=False, recipient_unreachable=True)
    if isinstance(exc, TelegramUnauthorizedError | TelegramNotFound):
        # The token was revoked or never valid: nothing sent on this channel can succeed.
        return DeliveryError(f"Telegram refused the bot token: {exc.message}", retryable=False,
                             channel_unhealthy=True)
    if isinstance(exc, TelegramEntityTooLarge):
        return DeliveryError(f"Telegram refused the file as too large: {exc.message}",
                             retryable=False)
    if isinstance(exc, TelegramBadRequest | TelegramMigrateToChat):
        return DeliveryError(exc.message, retryable=False)
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return DeliveryError(f"Telegram unavailable: {exc.message}", retryable=True)
    if isinstance(exc, ClientDecodeError):
        # A proxy's HTML error page instead of Bot API JSON: transient by experience.
        return DeliveryError("Telegram answered something that is not Bot API JSON",
                             retryable=True)
    if isinstance(exc, TelegramAPIError):
        return DeliveryError(f"Telegram error: {exc.message}", retryable=True)
    return DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True)
