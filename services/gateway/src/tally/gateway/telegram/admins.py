"""Who may use admin commands and alert buttons: the Telegram user ids in ADMIN_USER_IDS.

Handlers of admin commands take :class:`IsAdmin` as a filter; a separate handler with
``~IsAdmin()`` (or a fallback) replies :data:`REFUSAL` so a non-admin learns why nothing
happened. The check is by user id, never by chat: anyone can be in an admins' group.
"""

from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message

REFUSAL = (
    "This command is for Tally's admins only. Ask an admin to add your user id to ADMIN_USER_IDS."
)


class IsAdmin(Filter):
    """True when the update's sender is in the dispatcher's ``admin_users`` (a frozenset of
    Telegram user ids, from ADMIN_USER_IDS); False for anonymous senders."""

    async def __call__(self, event: Message | CallbackQuery, **data: Any) -> bool:
        admin_users: frozenset[int] = data.get("admin_users", frozenset())
        user = event.from_user
        return user is not None and user.id in admin_users
