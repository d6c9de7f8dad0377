"""The question being read: text whose understood parts are blanked out as they are taken.

Every step of the parser takes the phrases it understands (dates, creator ids,
comparisons, ...). What is left at the end is checked for words that would change the
meaning, so a half-understood question is refused instead of answered wrongly.
"""

import re
from dataclasses import dataclass, field

from tally.infra.errors import TallyError

# One character for one character, so spans in the normalized text match the original.
_NORMALIZE = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2011": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\t": " ",
        "\n": " ",
        "ё": "е",
        "Ё": "Е",
        "’": "'",
    }
)


class Unclear(TallyError):
    """The question cannot be read with certainty; ``reason`` keys a message in refusal.py,
    ``words`` are the words of the question it could not place (for "unplaced")."""

    def __init__(self, reason: str, *, words: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.words = words


@dataclass(slots=True)
class Scan:
    """The text of one question (dashes, spaces and "ё" normalized), with taken spans blanked."""

    text: str
    taken: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, question: str) -> "Scan":
        return cls(question.translate(_NORMALIZE))

    def blank(self, start: int, end: int) -> None:
        """Mark ``text[start:end]`` as understood (replaced by spaces of the same length)."""
        self.taken.append(self.text[start:end])
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        """Every match of ``pattern`` in the text not yet taken; each is blanked."""
        matches = list(pattern.finditer(self.text))
        for match in matches:
            self.blank(*match.span())
        return matches

    def has(self, pattern: re.Pattern[str]) -> bool:
        """Whether ``pattern`` occurs in the text not yet taken (nothing is blanked)."""
        return pattern.search(self.text) is not None
