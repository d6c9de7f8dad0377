"""What the asker reads when the LLM path cannot answer, in their language."""

from typing import Final

from tally.contracts.events import Language
from tally.contracts.render import EXAMPLES

_UNAVAILABLE: Final[dict[Language, str]] = {
    "en": "The language model is not answering right now; try a simpler question or try later.",
    "ru": "Языковая модель сейчас не отвечает; задайте вопрос попроще или попробуйте позже.",
}
_UNREADABLE: Final[dict[Language, str]] = {
    "en": "I couldn't turn that question into a query I can check. Try rephrasing it, or ask "
    "for one count or one total.",
    "ru": "Не получилось превратить вопрос в запрос, который я могу проверить. Переформулируйте "
    "его или спросите про одно количество или одну сумму.",
}


def unavailable(language: Language) -> str:
    """The model gave no answer (timeout, error, breaker open)."""
    return _UNAVAILABLE[language]


def unreadable(language: Language) -> str:
    """The model's replies were invalid even after a repair: we refuse rather than guess."""
    return _UNREADABLE[language]


def examples(language: Language) -> tuple[str, ...]:
    """Questions the built-in parser answers, offered with every LLM refusal."""
    return EXAMPLES[language]
