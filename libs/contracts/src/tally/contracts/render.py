"""How an answer reads, in the asker's language (English or Russian).

A number uses the language's thousands separator (``1,234,567`` / ``1 234 567``, with
U+202F narrow no-break spaces in Russian per the Russian typographic norm, GOST R 7.0.97);
a refusal gives the reason and a few questions that can be answered.

A grouped answer is a numbered list for a top-N (``1. <label> — 1,234``) or ``<label>: value``
lines for a series, ``—`` standing for no value; a list too long for one Telegram message
(:data:`MAX_MESSAGE` UTF-16 code units) is cut with an "… and N more" line.
"""

from typing import Final

from tally.contracts.events import GroupRow, Language, QuestionAnswered
from tally.semantic.plan import Dimension, Grouping

_THIN = "\u202f"
MAX_MESSAGE: Final = 4096
"""Longest Telegram message text, in UTF-16 code units (Bot API ``sendMessage``)."""
NO_VALUE: Final = "—"
"""Shown for a group's value that does not exist (an average, minimum or maximum of no rows)."""

EXAMPLES: dict[Language, tuple[str, ...]] = {
    "en": (
        "How many videos are in the system?",
        "How many videos got more than 100,000 views?",
        "How many videos were published in November 2025?",
        "What was the total view growth on November 28, 2025?",
    ),
    "ru": (
        "Сколько всего видео есть в системе?",
        "Сколько видео набрало больше 100 000 просмотров?",
        "Сколько видео опубликовано в ноябре 2025?",
        "На сколько просмотров в сумме выросли все видео 28 ноября 2025?",
    ),
}
"""Questions to suggest (help, refusals); nl2sql's tests check that each of them parses."""

_TEXTS: dict[Language, dict[str, str]] = {
    "en": {
        "counted": "Counted",
        "examples": "You can ask, for example:",
        "failed": "Sorry, I could not answer that right now.",
        "more": "… and {count} more",
        "none_video": "No videos match.",
        "none_creator": "No creators match.",
        "no_value": "Nothing matched, so there is no value to show.",
    },
    "ru": {
        "counted": "Посчитано",
        "examples": "Можно спросить, например:",
        "failed": "Извините, сейчас не получилось ответить.",
        "more": "… и ещё {count}",
        "none_video": "Ничего не найдено.",
        "none_creator": "Ничего не найдено.",
        "no_value": "Ничего не подошло, поэтому значения нет.",
    },
}


def format_number(value: int | float, language: Language) -> str:
    """``1234567`` -> ``1,234,567`` (en) or ``1 234 567`` (ru); floats keep two decimals."""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    if language == "ru":
        return text.replace(",", _THIN).replace(".", ",")
    return text


def utf16_length(text: str) -> int:
    """Length of ``text`` as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _row_lines(rows: tuple[GroupRow, ...], by: Dimension, language: Language) -> list[str]:
    def shown(row: GroupRow) -> str:
        return NO_VALUE if row.value is None else format_number(row.value, language)

    if by.is_time:
        return [f"{row.label}: {shown(row)}" for row in rows]
    return [f"{rank}. {row.label} — {shown(row)}" for rank, row in enumerate(rows, start=1)]


def _fitted(lines: list[str], tail: list[str], language: Language) -> list[str]:
    """``lines`` and then ``tail``; when that is longer than MAX_MESSAGE, as many of ``lines``
    as fit with an "… and N more" line for the rest."""
    if utf16_length("\n".join(lines + tail)) <= MAX_MESSAGE:
        return lines + tail
    more = _TEXTS[language]["more"]
    longest_more = more.format(count=format_number(len(lines), language))
    budget = MAX_MESSAGE - utf16_length("\n".join([longest_more, *tail]))
    kept = 0
    for line in lines:
        budget -= utf16_length(line) + 1
        if budget < 0:
            break
        kept += 1
    count = format_number(len(lines) - kept, language)
    return [*lines[:kept], more.format(count=count), *tail]


def _render_rows(answer: QuestionAnswered, grouping: Grouping) -> str:
    """A grouped answer: its rows (or that no entity matched), then what was counted."""
    language = answer.question.language
    texts = _TEXTS[language]
    tail = [f"{texts['counted']}: {answer.interpretation}"] if answer.interpretation else []
    if not answer.rows:
        nothing = texts["none_creator" if grouping.by is Dimension.CREATOR else "none_video"]
        return "\n".join([nothing, *tail])
    lines = _row_lines(answer.rows, grouping.by, language)
    return "\n".join(_fitted(lines, tail, language))


def render_answer(answer: QuestionAnswered) -> str:
    """The reply text for ``answer``: the number (or the rows of a grouped plan) and one line
    on what was counted; at most MAX_MESSAGE UTF-16 code units for a grouped answer; for an
    ambiguous question, the readings to pick from (:func:`render_choices`)."""
    if answer.outcome == "ambiguous":
        return render_choices(answer)
    language = answer.question.language
    texts = _TEXTS[language]
    grouping = answer.plan.group_by if answer.plan else None
    if answer.outcome == "answered" and grouping is not None:
        return _render_rows(answer, grouping)
    if answer.outcome == "answered":
        number = (
            texts["no_value"] if answer.value is None else format_number(answer.value, language)
        )
        if answer.interpretation:
            return f"{number}\n{texts['counted']}: {answer.interpretation}"
        return number
    lines = [answer.reason or texts["failed"]]
    if answer.examples:
        lines += ["", texts["examples"], *(f"• {example}" for example in answer.examples)]
    return "\n".join(lines)


_WHICH: dict[Language, str] = {"en": "Which did you mean?", "ru": "Что вы имели в виду?"}


def render_choices(answer: QuestionAnswered) -> str:
    """The reply to an ambiguous question: the reason (which reading was meant), then one
    line per choice numbered from 1 (``1. views of videos published in November``)."""
    lines = [answer.reason or _WHICH[answer.question.language]]
    lines += [f"{number}. {choice.label}" for number, choice in enumerate(answer.choices, 1)]
    return "\n".join(lines)
