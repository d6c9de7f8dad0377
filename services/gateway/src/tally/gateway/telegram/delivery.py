"""Sending a message to a chat, with retries on network trouble and no retry on refusals.

tenacity is not a dependency of the gateway yet, so the retry loop is this module's: three
attempts, waiting 0.5 s then 1 s (or what Telegram's ``retry_after`` asks, up to 30 s).
"""

import asyncio

import structlog
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)

from tally.gateway.metrics import GatewayMetrics

ATTEMPTS = 3
BACKOFF_S = 0.5
MAX_RETRY_AFTER_S = 30.0

_REFUSED = (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound)
_TRANSIENT = (TelegramNetworkError, TelegramServerError)

log = structlog.get_logger(__name__)


async def deliver(
    bot: Bot, chat_id: int, text: str, *, metrics: GatewayMetrics, parse_mode: str | None = None
) -> bool:
    """Send ``text`` to ``chat_id``; True when Telegram took it.

    Refusals (bot blocked, chat not found, bad request) are logged and counted, never raised;
    network and server errors are retried ``ATTEMPTS`` times, then logged and counted.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await bot.send_message(chat_id, text, parse_mode=parse_mode)
        except _REFUSED as error:
            log.warning("telegram refused message", chat_id=chat_id, error=error.message)
            metrics.reply("rejected")
            return False
        except (TelegramRetryAfter, *_TRANSIENT) as error:
            log.warning("telegram send failed", chat_id=chat_id, attempt=attempt, error=str(error))
            await asyncio.sleep(_pause(error, attempt) if attempt < ATTEMPTS else 0)
        else:
            metrics.reply("sent")
            return True
    metrics.reply("failed")
    return False


def _pause(error: Exception, attempt: int) -> float:
    if isinstance(error, TelegramRetryAfter):
        return min(float(error.retry_after), MAX_RETRY_AFTER_S)
    return float(BACKOFF_S * 2 ** (attempt - 1))
