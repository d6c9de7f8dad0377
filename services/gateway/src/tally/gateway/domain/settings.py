"""A group's settings as /settings shows them, and what an admin may set them to.

Pure: the card (HTML), the retention choices, time zone names checked against the IANA
database (``zoneinfo``), and the sentences of the /settings replies in English and Russian.
"""

from html import escape
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tally.contracts.chat_events import ChatSettings
from tally.contracts.events import Language

RETENTION_CHOICES: Final[tuple[int | None, ...]] = (None, 30, 90, 365)
"""Retention an admin may pick by button (days; None keeps everything)."""

_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "title": "⚙️ <b>Settings of this chat</b>",
        "timezone": "Time zone: <code>{zone}</code> (change: /settings timezone Europe/Berlin)",
        "store_text": "Message text stored: {value}",
        "retention": "Raw messages kept: {value}",
        "on": "yes",
        "off": "no",
        "forever": "forever",
        "days": "{days} days",
        "text_on": "Store message text",
        "text_off": "Stop storing message text",
        "keep": "Keep {value}",
        "refused": "Only this chat's administrators can change its settings.",
        "saved": "Saved; it takes effect in a few seconds.",
        "usage": "Write /settings to see them, /settings timezone Europe/Berlin to set the zone.",
        "bad_zone": "{name} is no time zone I know: use an IANA name such as Europe/Berlin.",
    },
    "ru": {
        "title": "⚙️ <b>Настройки этого чата</b>",
        "timezone": "Часовой пояс: <code>{zone}</code> (сменить: /settings timezone Europe/Moscow)",
        "store_text": "Текст сообщений хранится: {value}",
        "retention": "Сообщения хранятся: {value}",
        "on": "да",
        "off": "нет",
        "forever": "всегда",
        "days": "{days} дн.",
        "text_on": "Хранить текст сообщений",
        "text_off": "Не хранить текст сообщений",
        "keep": "Хранить {value}",
        "refused": "Менять настройки чата могут только его администраторы.",
        "saved": "Сохранено; изменения вступят в силу через несколько секунд.",
        "usage": "/settings — показать настройки, /settings timezone Europe/Moscow — сменить пояс.",
        "bad_zone": "Часовой пояс {name} мне неизвестен: укажите имя IANA, например Europe/Moscow.",
    },
}


def text(key: str, language: Language, **fields: object) -> str:
    """The sentence ``key`` (``refused``, ``saved``, ``usage``, ``bad_zone``, button labels)
    in ``language``, fields filled in (not escaped). Raises KeyError for an unknown key."""
    return _TEXTS[language][key].format(**fields)


def retention_label(days: int | None, language: Language) -> str:
    """ "forever" for None, else "30 days"."""
    return text("forever", language) if days is None else text("days", language, days=days)


def settings_card(settings: ChatSettings, language: Language) -> str:
    """The /settings card (HTML): the chat's time zone, whether text is stored, retention."""
    stored = text("on" if settings.store_text else "off", language)
    return "\n".join(
        [
            text("title", language),
            text("timezone", language, zone=escape(settings.timezone)),
            text("store_text", language, value=stored),
            text("retention", language, value=retention_label(settings.retention_days, language)),
        ]
    )


def valid_timezone(name: str) -> str | None:
    """``name`` when it is an IANA time zone (``Europe/Berlin``, ``UTC``), else None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name
