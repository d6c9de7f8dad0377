"""A group's history sent to the bot as a Telegram Desktop export: which files are taken, the
size limit, and the sentences of the replies in English and Russian. Pure.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Final

from tally.contracts.chat_export import ExportedChat, Tally
from tally.contracts.events import Language

MAX_EXPORT_BYTES: Final = 20 * 1024 * 1024
"""The largest export taken (20 MB): the Bot API's ``getFile`` lets a bot download files
of up to 20 MB (https://core.telegram.org/bots/api#getfile); larger ones go through
``tally import-chat``."""
MAX_EXPORT_MB: Final = MAX_EXPORT_BYTES // (1024 * 1024)
JSON_TYPES: Final = frozenset({"application/json", "text/json"})

_KINDS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "message": "messages",
        "edit": "edits",
        "reaction_count": "reaction totals",
        "member": "joins and leaves",
        "title": "title changes",
    },
    "ru": {
        "message": "сообщений",
        "edit": "правок",
        "reaction_count": "итогов реакций",
        "member": "вступлений и выходов",
        "title": "смен названия",
    },
}
_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "not_export": (
            "To import a group's history, send me its Telegram Desktop export: the group's "
            "menu → Export chat history, format JSON, then the result.json file."
        ),
        "too_big": (
            "This file is too big: Telegram lets a bot download files of up to {limit} MB. "
            "Export without media, or have Tally's operator run tally import-chat."
        ),
        "busy": "Another history import is running; send the file again in a few minutes.",
        "download_failed": "I could not download the file from Telegram; please send it again.",
        "not_allowed": "This bot does not serve the chat of that export ({chat_id}).",
        "not_admin": (
            "Only administrators of {title} can import its history, and the bot must be a "
            "member there: Telegram does not list you as one of its admins."
        ),
        "reading": "Importing the history of {title}: {messages:,} messages…",
        "done": (
            "Imported {title} ({chat_id}): {events:,} events ({kinds}), {new:,} new to the stream."
        ),
        "none": "none",
        "again": "Nothing new: this history was imported before, so nothing changed.",
        "skipped": "Skipped {count:,} malformed messages (first reason: {reason}).",
        "failed": (
            "Stopped after {done:,} events: the message bus did not confirm the next one. "
            "Send the file again later (what was imported is not counted twice)."
        ),
        "text_kept": "Message text: kept (this chat stores text).",
        "text_left": (
            "Message text: left out, counts only (turn text storage on with /settings in the "
            "group first to keep it)."
        ),
    },
    "ru": {
        "not_export": (
            "Чтобы импортировать историю группы, пришлите её экспорт из Telegram Desktop: "
            "меню группы → Экспорт истории чата, формат JSON, затем файл result.json."
        ),
        "too_big": (
            "Файл слишком большой: бот может скачать из Telegram файл не больше {limit} МБ. "
            "Экспортируйте без медиа или попросите оператора Tally выполнить tally import-chat."
        ),
        "busy": "Сейчас идёт другой импорт истории; пришлите файл ещё раз через несколько минут.",
        "download_failed": "Не удалось скачать файл из Telegram; пришлите его ещё раз.",
        "not_allowed": "Этот бот не обслуживает чат этого экспорта ({chat_id}).",
        "not_admin": (
            "Импортировать историю {title} могут только его администраторы, и бот должен "
            "состоять в этом чате: Telegram не называет вас его администратором."
        ),
        "reading": "Импортирую историю {title}: {messages:,} сообщений…",
        "done": (
            "Импортировано {title} ({chat_id}): {events:,} событий ({kinds}), "
            "новых для потока {new:,}."
        ),
        "none": "нет",
        "again": "Ничего нового: эта история уже импортирована, ничего не изменилось.",
        "skipped": "Пропущено повреждённых сообщений: {count:,} (первая причина: {reason}).",
        "failed": (
            "Остановлено после {done:,} событий: шина сообщений не подтвердила следующее. "
            "Пришлите файл позже ещё раз (уже импортированное не посчитается дважды)."
        ),
        "text_kept": "Текст сообщений: сохранён (чат хранит текст).",
        "text_left": (
            "Текст сообщений: не сохранён, только счётчики (чтобы сохранить, сначала включите "
            "хранение текста через /settings в группе)."
        ),
    },
}


@dataclass(frozen=True)
class Published:
    """What publishing an import's events did: JetStream stored ``new`` anew, had
    ``duplicates`` already (within its duplicate window); ``failed`` were not published
    (the first one JetStream did not confirm, and those after it)."""

    new: int = 0
    duplicates: int = 0
    failed: int = 0

    def __add__(self, other: "Published") -> "Published":
        return Published(
            self.new + other.new,
            self.duplicates + other.duplicates,
            self.failed + other.failed,
        )


def is_export(file_name: str | None, mime_type: str | None) -> bool:
    """True for a document that may be an export: a ``.json`` name or a JSON mime type."""
    return (file_name or "").lower().endswith(".json") or (mime_type or "") in JSON_TYPES


def too_big(size_bytes: int | None) -> bool:
    """True when a document of ``size_bytes`` is over :data:`MAX_EXPORT_BYTES` (unknown: no)."""
    return size_bytes is not None and size_bytes > MAX_EXPORT_BYTES


def say(key: str, language: Language, **fields: object) -> str:
    """The sentence ``key`` in ``language`` with ``fields`` filled in (``too_big`` has the
    limit filled in). Raises KeyError for an unknown key."""
    return _TEXTS[language][key].format(limit=MAX_EXPORT_MB, **fields)


def title_of(chat: ExportedChat) -> str:
    """The chat's title in quotes, or its id when the export names none."""
    return f"“{chat.title}”" if chat.title else str(chat.chat_id)


def outcome(
    chat: ExportedChat, tally: Tally, published: Published, *, store_text: bool, language: Language
) -> str:
    """The reply after an import: events by kind and how many were new, what was skipped or
    failed, and whether text was kept."""
    events = sum(tally.events.values())
    lines = [
        say(
            "done",
            language,
            title=title_of(chat),
            chat_id=chat.chat_id,
            events=events,
            kinds=_kinds(tally.events, language),
            new=published.new,
        )
    ]
    if events and not published.new and not published.failed:
        lines.append(say("again", language))
    if tally.skipped:
        reason = tally.skipped.most_common(1)[0][0]
        lines.append(say("skipped", language, count=sum(tally.skipped.values()), reason=reason))
    if published.failed:
        lines.append(say("failed", language, done=published.new + published.duplicates))
    lines.append(say("text_kept" if store_text else "text_left", language))
    return "\n".join(lines)


def _kinds(events: Counter[str], language: Language) -> str:
    names = _KINDS[language]
    found = [f"{events[kind]:,} {name}" for kind, name in names.items() if events[kind]]
    return ", ".join(found) or say("none", language)
