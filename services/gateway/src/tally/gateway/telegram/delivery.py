"""Sending a message to a chat, with retries on network trouble and no retry on refusals.

Retries use tenacity: three attempts, waiting 0.5 s then 1 s (exponential), or what
Telegram's ``retry_after`` asks for (flood control), capped at 30 s.

:func:`deliver` does not read the Message Telegram sends back, so it sends
:class:`SendMessageUnread`: the same request, whose result stays JSON instead of becoming an
aiogram ``Message`` (validating one took about 40 µs of CPU per reply; BENCHMARKS.md, "The
gateway's CPU per question").
"""

from collections.abc import Awaitable, Callable
from typing import Any

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
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from tally.gateway.metrics import GatewayMetrics

ATTEMPTS = 3
BACKOFF_S = 0.5
MAX_RETRY_AFTER_S = 30.0

_REFUSED = (TelegramForbiddenError, TelegramBadRequest, TelegramNotFound)
_TRANSIENT = (TelegramRetryAfter, TelegramNetworkError, TelegramServerError)
_backoff = wait_exponential(multiplier=BACKOFF_S, min=BACKOFF_S)

log = structlog.get_logger(__name__)


class SendMessageUnread(SendMessage):
    """aiogram's ``sendMessage`` (same fields, same request, same errors: aiogram still checks
    the response's ``ok``, error code and ``retry_after``) whose result, the Message sent, is
    returned as the JSON object Telegram sent, not validated into a ``Message``."""

    __returning__ = dict[str, Any]


def _wait(state: RetryCallState) -> float:
    """Telegram's own ``retry_after`` when it gave one, else exponential backoff."""
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, TelegramRetryAfter):
        return min(float(error.retry_after), MAX_RETRY_AFTER_S)
    return float(_backoff(state))


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("telegram send failed", attempt=state.attempt_number, error=str(error))


async def deliver(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    metrics: GatewayMetrics,
    parse_mode: str | None = None,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Send ``text`` to ``chat_id``; True when Telegram took it.

    Refusals (bot blocked, chat not found, bad request) are logged and counted, never raised;
    network and server errors are retried ``ATTEMPTS`` times, then logged and counted.
    """

    async def send() -> None:
        method = SendMessageUnread(
            chat_id=chat_id, text=text, parse_mode=parse_mode, reply_markup=reply_markup
        )
        await bot(method)

    return await _with_retries(send, chat_id, metrics)


async def deliver_photo(
    bot: Bot,
    chat_id: int,
    png: bytes,
    *,
    caption: str,
    metrics: GatewayMetrics,
    parse_mode: str | None = None,
) -> bool:
    """Send the PNG image ``png`` with ``caption`` to ``chat_id``, like :func:`deliver`."""

    async def send() -> None:
        photo = BufferedInputFile(png, filename="chart.png")
        await bot.send_photo(chat_id, photo, caption=caption, parse_mode=parse_mode)

    return await _with_retries(send, chat_id, metrics)


async def _with_retries(
    send: Callable[[], Awaitable[None]], chat_id: int, metrics: GatewayMetrics
) -> bool:
    """``send`` once; only when that fails for a transient reason, tenacity's retry loop, its
    first attempt being that failure (the same waits, attempts and log lines as when the
    loop makes every attempt). Setting tenacity up for a send costs about 25 µs of CPU
    (BENCHMARKS.md, "The gateway's CPU per question"), and most sends succeed at once."""
    try:
        await send()
    except _REFUSED as error:
        return _refused(error, chat_id, metrics)
    except _TRANSIENT as error:
        first: BaseException | None = error
    else:
        metrics.reply("sent")
        return True

    async def again() -> None:
        nonlocal first
        failure, first = first, None
        if failure is not None:
            raise failure
        await send()

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(_TRANSIENT),
        stop=stop_after_attempt(ATTEMPTS),
        wait=_wait,
        before_sleep=_log_retry,
    )
    try:
        async for attempt in retrying:
            with attempt:
                await again()
    except _REFUSED as error:
        return _refused(error, chat_id, metrics)
    except RetryError:
        log.error("telegram send gave up", chat_id=chat_id, attempts=ATTEMPTS)
        metrics.reply("failed")
        return False
    metrics.reply("sent")
    return True


def _refused(
    error: TelegramForbiddenError | TelegramBadRequest | TelegramNotFound,
    chat_id: int,
    metrics: GatewayMetrics,
) -> bool:
    log.warning("telegram refused message", chat_id=chat_id, error=error.message)
    metrics.reply("rejected")
    return False
