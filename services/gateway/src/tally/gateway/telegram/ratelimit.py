"""Telegram's sending limits, kept by waiting rather than by dropping.

Telegram asks bots to send no more than about one message per second to one chat and 20 per
minute to one group (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-
avoid-this). :class:`GroupRateLimit` is an aiogram request middleware on the bot's session:
every send to a group waits for its turn in two leaky buckets (aiolimiter), one per second
and one per minute; nothing is dropped. Private chats are not held back (answers there are
one per question and already throttled per user).
"""

from collections import OrderedDict
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import (
    CopyMessage,
    ForwardMessage,
    SendAnimation,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType
from aiolimiter import AsyncLimiter

SENDS = (SendMessage, SendPhoto, SendDocument, SendAnimation, CopyMessage, ForwardMessage)
"""The methods that post a new message to a chat (edits and callback answers are not)."""


class GroupRateLimit(BaseRequestMiddleware):
    """At most ``per_second`` sends per second and ``per_minute`` per minute to each group
    (chat ids below zero); the ``max_groups`` most recently used groups keep their buckets."""

    def __init__(
        self, *, per_second: float = 1.0, per_minute: float = 20.0, max_groups: int = 10_000
    ) -> None:
        self.per_second = per_second
        self.per_minute = per_minute
        self.max_groups = max_groups
        self._buckets: OrderedDict[int, tuple[AsyncLimiter, AsyncLimiter]] = OrderedDict()

    def _for(self, chat_id: int) -> tuple[AsyncLimiter, AsyncLimiter]:
        buckets = self._buckets.get(chat_id)
        if buckets is None:
            buckets = (AsyncLimiter(1, 1 / self.per_second), AsyncLimiter(self.per_minute, 60))
            self._buckets[chat_id] = buckets
            if len(self._buckets) > self.max_groups:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(chat_id)
        return buckets

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id: Any = getattr(method, "chat_id", None)
        sends = isinstance(method, SENDS)
        if sends and isinstance(chat_id, int) and chat_id < 0:
            per_second, per_minute = self._for(chat_id)
            async with per_minute, per_second:
                return await make_request(bot, method)
        return await make_request(bot, method)
