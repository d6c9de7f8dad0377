"""What the user is told when a question cannot be answered, in their language."""

from dataclasses import dataclass
from typing import Final

from tally.common.events import Language
from tally.common.render import EXAMPLES


@dataclass(frozen=True, slots=True)
class Refusal:
    """A question the parser will not guess at: ``reason`` is a sentence the user can act on,
    ``examples`` are questions it can answer; both in the asker's language."""

    reason: str
    examples: tuple[str, ...]


_REASONS: Final[dict[str, dict[Language, str]]] = {
    "unknown": {
        "en": "I didn't understand the question. I can count videos, creators and snapshots, and "
        "add up views, likes, comments and reports, by publication date, day and creator.",
        "ru": "Я не понял вопрос. Я умею считать видео, креаторов и замеры, а также суммировать "
        "просмотры, лайки, комментарии и жалобы — по дате публикации, по дням и по креатору.",
    },
    "unsupported": {
        "en": "I answer with a single number: lists, rankings and breakdowns by day or by creator "
        "are not supported yet. Ask for one count or one total.",
        "ru": "Я отвечаю одним числом: списки, рейтинги и разбивки по дням или по креаторам пока "
        "не поддерживаются. Спросите про одно количество или одну сумму.",
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


def refusal(reason: str, language: Language) -> Refusal:
    """The refusal for a reason key of :class:`~tally.nl2sql.domain.scan.Unclear`."""
    texts = _REASONS.get(reason, _REASONS["unknown"])
    return Refusal(reason=texts[language], examples=EXAMPLES[language])


def failure_reason(language: Language) -> str:
    """The sentence shown when parsing failed unexpectedly (no details of the error)."""
    return _FAILED[language]
