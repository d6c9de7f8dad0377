"""What a report command's asker is told when its period or arguments cannot be read, in
English and Russian (worded like the question refusals of :mod:`tally.language.refusal`)."""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from tally.contracts.events import Language
from tally.infra.errors import UserFacingError


class ReportPeriodError(UserFacingError):
    """A report's period or arguments could not be read: ``reason`` is its key (e.g.
    "unread", "too_long", "future"), ``texts`` the sentence in English and Russian,
    ``message`` the one in the asker's language."""

    def __init__(self, reason: str, texts: Mapping[Language, str], language: Language) -> None:
        super().__init__(texts[language])
        self.reason = reason
        self.texts: dict[Language, str] = dict(texts)


_EXAMPLES: Final[dict[Language, str]] = {
    "en": "30, 2w, 2025-11, 2025-11-01..2025-11-30, last week, in October",
    "ru": "30, 2w, 2025-11, 2025-11-01..2025-11-30, «за прошлую неделю», «в октябре»",
}

_SENTENCES: Final[dict[str, dict[Language, str]]] = {
    "unread": {
        "en": "I couldn't read {words} as a period. Write, for example: {examples}.",
        "ru": "Я не смог прочитать {words} как период. Напишите, например: {examples}.",
    },
    "date": {
        "en": "I couldn't read the dates in {text}: a day that does not exist, or a range "
        "that ends before it starts.",
        "ru": "Я не смог разобрать даты в {text}: такого дня нет, или период заканчивается "
        "раньше, чем начинается.",
    },
    "dates": {
        "en": "Please name one period at a time.",
        "ru": "Пожалуйста, укажите один период.",
    },
    "reversed": {
        "en": "The period ends ({last}) before it starts ({first}).",
        "ru": "Период заканчивается ({last}) раньше, чем начинается ({first}).",
    },
    "future": {
        "en": "The period {first} – {last} has not begun yet: today is {today} in this chat's "
        "time zone.",
        "ru": "Период {first} – {last} ещё не начался: сегодня {today} по часовому поясу чата.",
    },
    "too_long": {
        "en": "That period is {days} days long; a report covers at most {max} days. Name a "
        "shorter one, for example a month: {month}.",
        "ru": "Этот период длиной {days} {days_ru}, а отчёт охватывает не больше {max} дней. "
        "Укажите период короче, например месяц: {month}.",
    },
    "too_long_far": {
        "en": "That period is far longer than {max} days, the most a report covers. Name a "
        "shorter one, for example a month: {month}.",
        "ru": "Этот период намного длиннее {max} дней, а больше отчёт не охватывает. "
        "Укажите период короче, например месяц: {month}.",
    },
    "empty": {
        "en": "A period of 0 days is empty: give 1 to {max} days.",
        "ru": "Период из 0 дней пуст: укажите от 1 до {max} дней.",
    },
    "no_start": {
        "en": '{text} has no first day. Say where the period starts, for example "since 1 '
        'November" or 2025-11-01..2025-11-15.',
        "ru": "У периода {text} нет первого дня. Укажите, откуда он начинается, например "
        "«с 1 ноября» или 2025-11-01..2025-11-15.",
    },
    "limit": {
        "en": "A top shows 1 to {max} members, for example /top 10.",
        "ru": "Топ показывает от 1 до {max} участников, например /top 10.",
    },
    "measure": {
        "en": "I can rank members by messages, words, reactions or replies, not by {words}.",
        "ru": "Я могу ранжировать участников по сообщениям, словам, реакциям или ответам, "
        "но не по {words}.",
    },
    "measures": {
        "en": "Please rank by one measure: messages, words, reactions or replies.",
        "ru": "Пожалуйста, выберите одно: сообщения, слова, реакции или ответы.",
    },
    "not_top": {
        "en": "Only /top ranks members by a measure; /{kind} takes just a period, for example "
        "/{kind} 30 or /{kind} last week.",
        "ru": "Ранжирует по мере только /top; /{kind} принимает только период, например "
        "/{kind} 30 или /{kind} за прошлую неделю.",
    },
}
_QUOTE: Final[dict[Language, str]] = {"en": "'{}'", "ru": "«{}»"}
_NAMED: Final = 5
"""Most words a refusal names."""


def _russian_days(count: int) -> str:
    """ "день", "дня" or "дней", agreeing with ``count``."""
    if count % 10 == 1 and count % 100 != 11:
        return "день"
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return "дня"
    return "дней"


def _sentence(
    reason: str, language: Language, words: Sequence[str], fields: dict[str, object]
) -> str:
    quote = _QUOTE[language]
    today = fields.get("today")
    month = f"{today:%Y-%m}" if isinstance(today, date) else "2025-11"
    return _SENTENCES[reason][language].format(
        words=", ".join(quote.format(word) for word in words[:_NAMED]),
        text=quote.format(fields.get("text", "")),
        examples=_EXAMPLES[language],
        month=month,
        days_ru=_russian_days(days) if isinstance(days := fields.get("days"), int) else "",
        **{key: value for key, value in fields.items() if key != "text"},
    )


def refused(
    reason: str, language: Language, *, words: Sequence[str] = (), **fields: object
) -> ReportPeriodError:
    """The error for ``reason`` (a key above), worded in both languages; ``words`` are named
    quoted (at most five), ``fields`` fill the sentence (``text`` is quoted; dates print as
    ISO days). Unknown reasons read as "unread"."""
    key = reason if reason in _SENTENCES else "unread"
    texts = {lang: _sentence(key, lang, words, fields) for lang in _QUOTE}
    return ReportPeriodError(key, texts, language)
