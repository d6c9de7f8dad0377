"""How an answer reads, in the asker's language (English or Russian).

A number uses the language's thousands separator (``1,234,567`` / ``1 234 567``, with
U+202F narrow no-break spaces in Russian per the Russian typographic norm, GOST R 7.0.97);
a refusal gives the reason and a few questions that can be answered.
"""

from tally.common.events import Language, QuestionAnswered

_THIN = "\u202f"

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
    },
    "ru": {
        "counted": "Посчитано",
        "examples": "Можно спросить, например:",
        "failed": "Извините, сейчас не получилось ответить.",
    },
}


def format_number(value: int | float, language: Language) -> str:
    """``1234567`` -> ``1,234,567`` (en) or ``1 234 567`` (ru); floats keep two decimals."""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    if language == "ru":
        return text.replace(",", _THIN).replace(".", ",")
    return text


def render_answer(answer: QuestionAnswered) -> str:
    """The reply text for ``answer``: the number and one line on what was counted."""
    if answer.outcome == "ambiguous":
        return render_choices(answer)
    language = answer.question.language
    texts = _TEXTS[language]
    if answer.outcome == "answered" and answer.value is not None:
        number = format_number(answer.value, language)
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
