"""Who administers each group, as Telegram says (``getChatMember``), remembered briefly.

Group settings may be changed by the chat's creator and administrators only. Asking
Telegram on every press would be slow and count against the bot's limits, so each
(chat, user) verdict is kept ``ttl_s`` seconds (a demoted admin loses the right within that
time); the ``max_entries`` most recent are kept.
"""

import time
from collections import OrderedDict
from typing import Final

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from tally.gateway.telegram.chat_events import is_administrator

ADMIN_CHECK_TTL_S: Final = 60.0
"""How long a getChatMember verdict is trusted (seconds)."""

log = structlog.get_logger(__name__)


class ChatAdmins:
    """Whether a user administers a chat, asked of Telegram and kept ``ttl_s`` seconds."""

    def __init__(self, ttl_s: float = ADMIN_CHECK_TTL_S, max_entries: int = 10_000) -> None:
        self._ttl_s, self._max_entries = ttl_s, max_entries
        self._verdicts: OrderedDict[tuple[int, int], tuple[float, bool]] = OrderedDict()

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        """True when ``user_id`` is the creator or an administrator of ``chat_id``; False
        when not, or when Telegram cannot say (logged, not remembered)."""
        key, now = (chat_id, user_id), time.monotonic()
        kept = self._verdicts.get(key)
        if kept is not None and now - kept[0] < self._ttl_s:
            return kept[1]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramAPIError as error:
            log.warning("chat admin unknown", chat_id=chat_id, user_id=user_id, error=str(error))
            return False
        verdict = is_administrator(member)
        self._verdicts[key] = (now, verdict)
        self._verdicts.move_to_end(key)
        if len(self._verdicts) > self._max_entries:
            self._verdicts.popitem(last=False)
        return verdict
