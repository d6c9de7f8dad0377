"""What the user is told when a question cannot be answered, or has several readings,
in their language."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from tally.contracts.events import Language
from tally.contracts.render import EXAMPLES
from tally.semantic.plan import QueryPlan


@dataclass(frozen=True, slots=True)
class Refusal:
    """A question the parser will not guess at: ``reason`` is a sentence the user can act on,
    ``examples`` are questions it can answer; both in the asker's language."""

    reason: str
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Readings:
    """A question with two or three sensible meanings: ``question`` asks which one (in the
    asker's language); each plan's ``interpretation`` says what it counts."""

    question: str
    plans: tuple[QueryPlan, ...]


_WHICH_READING: Final[dict[Language, str]] = {
    "en": "Your question can be read in more than one way. Which did you mean?",
    "ru": "Вопрос можно понять по-разному. Что вы имели в виду?",
}


def readings(plans: Sequence[QueryPlan], language: Language) -> Readings:
    """The readings to offer for ``plans`` (already described in ``language``)."""
    return Readings(_WHICH_READING[language], tuple(plans))


_REASONS: Final[dict[str, dict[Language, str]]] = {
    "unknown": {
        "en": "I didn't understand the question. I can count videos, creators and snapshots, and "
        "add up views, likes, comments and reports, by publication date, day and creator; in a "
        "group, I can count its messages and the people who wrote, joined or left.",
        "ru": "Я не понял вопрос. Я умею считать видео, креаторов и замеры, а также суммировать "
        "просмотры, лайки, комментарии и жалобы — по дате публикации, по дням и по креатору; в "
        "группе — считать её сообщения и участников, которые писали, вступали или выходили.",
    },
    "unsupported": {
        "en": 'I answer with one number, a top list ("top 5 videos by views") or a series by '
        'day or hour ("views gained per day in November"). Lists of names and breakdowns by '
        "week or month are not supported yet.",
        "ru": "Я отвечаю одним числом, топом («топ-5 видео по просмотрам») или рядом по дням или "
        "часам («прирост просмотров по дням за ноябрь»). Списки и разбивки по неделям или "
        "месяцам пока не поддерживаются.",
    },
    "hours": {
        "en": "I couldn't read the hours. Name one day and a window, like \"on November 28, 2025 "
        'from 10:00 to 15:00" (UTC).',
        "ru": "Я не смог разобрать часы. Назовите один день и интервал, например: «28 ноября 2025 "
        "с 10:00 до 15:00» (UTC).",
    },
    "series_range": {
        "en": 'A series needs a period: say, for example, "per day in November 2025" or "hourly '
        'on November 28".',
        "ru": "Для ряда нужен период: например, «по дням за ноябрь 2025» или «по часам 28 ноября».",
    },
    "series_long": {
        "en": "That series is too long: a series by day covers at most a year, by hour at most "
        "7 days.",
        "ru": "Слишком длинный ряд: по дням — не больше года, по часам — не больше 7 дней.",
    },
    "limit": {
        "en": "I can show a top of 1 to 100 rows.",
        "ru": "Я могу показать топ от 1 до 100 строк.",
    },
    "date": {
        "en": 'I couldn\'t read the date. Write it like "November 28, 2025", "28.11.2025" or '
        '"November 1-5, 2025".',
        "ru": "Я не смог разобрать дату. Напишите её, например, так: «28 ноября 2025», "
        "«28.11.2025» или «с 1 по 5 ноября 2025».",
    },
    "dates": {
        "en": "Please ask about one date or one date range at a time.",
        "ru": "Пожалуйста, спрашивайте про одну дату или один период за раз.",
    },
    "date_meaning": {
        "en": 'I\'m not sure what the date refers to. Say "published on …" for videos that came '
        'out that day, or "gained views on …" for growth during that day.',
        "ru": "Не понятно, к чему относится дата. Напишите «опубликованы …» для видео, вышедших в "
        "этот день, или «набрали просмотров …» для прироста за этот день.",
    },
    "counter": {
        "en": "Which counter do you mean? Name exactly one: views, likes, comments or reports.",
        "ru": "Какой показатель вы имеете в виду? Назовите один: просмотры, лайки, комментарии "
        "или жалобы.",
    },
    "creator": {
        "en": 'Please give the creator\'s id, e.g. "creator aca1061a9d324ecf8c3fa2bb32d7be63".',
        "ru": "Укажите id креатора, например: «креатора с id aca1061a9d324ecf8c3fa2bb32d7be63».",
    },
    "number": {
        "en": "I couldn't read the number. Write a whole number like 100000, 100,000 or 100k.",
        "ru": "Я не смог разобрать число. Напишите целое число, например 100000, 100 000 или "
        "1,5 млн.",
    },
    "growth_threshold": {
        "en": "I can't yet count videos by how much they gained in a period. Ask for the total "
        "growth, or for how many videos gained any views.",
        "ru": "Пока я не умею считать видео по величине прироста за период. Спросите про "
        "суммарный прирост или про то, сколько видео вообще получали новые просмотры.",
    },
    "read_only": {
        "en": "I only read the statistics: I can't change, add or delete anything, and I don't run "
        "SQL typed into the chat. Ask for a count or a total.",
        "ru": "Я только читаю статистику: ничего не меняю, не добавляю и не удаляю и не выполняю "
        "SQL из чата. Спросите про количество или сумму.",
    },
}

_FAILED: Final[dict[Language, str]] = {
    "en": "Sorry, something went wrong while reading your question. Please try again in a moment.",
    "ru": "Извините, при разборе вопроса что-то пошло не так. Попробуйте ещё раз чуть позже.",
}


_UNPLACED: Final[dict[Language, str]] = {
    "en": "I don't know how to count {words} yet, so I won't guess: the rest of the question I "
    "could read, but an answer without {them} would count something else. Rephrase without "
    "{them}, or ask one of the questions below.",
    "ru": "Я пока не умею учитывать {words}, поэтому не буду угадывать: ответ без {them} "
    "посчитал бы другое. Переформулируйте вопрос или задайте один из вопросов ниже.",
}
_THEM: Final[dict[Language, tuple[str, str]]] = {"en": ("it", "them"), "ru": ("него", "них")}


def refusal(reason: str, language: Language, words: Sequence[str] = ()) -> Refusal:
    """The refusal for a reason key of :class:`~tally.language.scan.Unclear`; for
    "unplaced", a sentence naming ``words``, the words of the question it could not place."""
    if reason == "unplaced" and words:
        quote = "«{}»" if language == "ru" else "'{}'"
        quoted = ", ".join(quote.format(word) for word in words[:5])
        them = _THEM[language][len(words) > 1]
        text = _UNPLACED[language].format(words=quoted, them=them)
        return Refusal(reason=text, examples=EXAMPLES[language])
    texts = _REASONS.get(reason, _REASONS["unknown"])
    return Refusal(reason=texts[language], examples=EXAMPLES[language])


def failure_reason(language: Language) -> str:
    """The sentence shown when parsing failed unexpectedly (no details of the error)."""
    return _FAILED[language]
