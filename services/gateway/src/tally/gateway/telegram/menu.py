"""The bot's command menu: ``setMyCommands`` per scope, in English and Russian.

Telegram shows these lists when a user types ``/``: private chats get the private commands,
every group the report commands, a group's administrators those and /settings. The English
lists are the default (no ``language_code``); Russian users get the ``ru`` lists. Registered
at start; a failure is logged and the gateway runs on (the menu is a convenience, the
commands work without it).
"""

from typing import Final

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeUnion,
)

from tally.contracts.events import Language
from tally.gateway.telegram.captured import COMMANDS as CAPTURED

_DESCRIPTIONS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "help": "What Tally does, with example questions",
        "sql": "The SQL behind the last answer",
        "ask": "Ask about this chat",
        "stats": "Chat statistics: /stats 30, /stats last week",
        "top": "Most active members: /top 5 by words 2025-11",
        "me": "Your stats in this chat: /me, /me last month",
        "user": "A member's stats: /user @name 30",
        "heatmap": "Messages by weekday and hour",
        "activity": "Messages per day",
        "settings": "Time zone, text storage, retention (admins)",
        "content": "What was posted: types, links, hashtags, forwards",
        "reactions": "Most used reactions, who received and gave most",
        "replies": "Who replies to whom, median reply time",
        "topics": "Activity per forum topic",
        "members": "Joins and leaves, inviters, churn",
        "words": "Most written words (chats that store text)",
        "dashboard": "A private link to this chat's dashboard (admins)",
        "digest": "Daily or weekly statistics: /digest on weekly (admins)",
    },
    "ru": {
        "help": "Что умеет Tally, примеры вопросов",
        "sql": "SQL последнего ответа",
        "ask": "Спросить о чате",
        "stats": "Статистика чата: /stats 30, /stats за прошлую неделю",
        "top": "Самые активные: /top 5 по словам 2025-11",
        "me": "Ваша статистика в этом чате: /me, /me за прошлый месяц",
        "user": "Статистика участника: /user @name 30",
        "heatmap": "Сообщения по дням недели и часам",
        "activity": "Сообщения по дням",
        "settings": "Часовой пояс, хранение текста и срок хранения (админы)",
        "content": "Что публиковали: типы, ссылки, хештеги, пересылки",
        "reactions": "Частые реакции, кто больше получил и поставил",
        "replies": "Кто кому отвечает, медианное время ответа",
        "topics": "Активность по темам форума",
        "members": "Вступления и выходы, кто приглашал, отток",
        "words": "Частые слова (если чат хранит текст)",
        "dashboard": "Личная ссылка на панель чата (админы)",
        "digest": "Статистика каждый день или неделю: /digest on weekly (админы)",
    },
}
PRIVATE: Final = ("help", "sql")
GROUP: Final = ("ask", "stats", "top", "me", "user", "heatmap", "activity", *CAPTURED)
GROUP_ADMINS: Final = (*GROUP, "settings", "dashboard", "digest")
SCOPES: Final[tuple[tuple[BotCommandScopeUnion, tuple[str, ...]], ...]] = (
    (BotCommandScopeAllPrivateChats(), PRIVATE),
    (BotCommandScopeAllGroupChats(), GROUP),
    (BotCommandScopeAllChatAdministrators(), GROUP_ADMINS),
)
"""Each scope and the commands it lists."""

log = structlog.get_logger(__name__)


def commands(names: tuple[str, ...], language: Language) -> list[BotCommand]:
    """The menu entries ``names`` described in ``language``."""
    return [BotCommand(command=name, description=_DESCRIPTIONS[language][name]) for name in names]


async def register_commands(bot: Bot) -> bool:
    """``setMyCommands`` for every scope of :data:`SCOPES`, in English (the default) and
    Russian; True when Telegram took them all, False (logged) when it refused or could not be
    reached: the gateway goes on either way."""
    try:
        for scope, names in SCOPES:
            await bot.set_my_commands(commands(names, "en"), scope=scope)
            await bot.set_my_commands(commands(names, "ru"), scope=scope, language_code="ru")
    except TelegramAPIError as error:
        log.warning("bot commands not registered", error=str(error))
        return False
    return True
