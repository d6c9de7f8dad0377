"""Numbers as people write them: ``100000``, ``100 000``, ``100,000``, ``100k``, ``1.5 млн``."""

import re
from decimal import Decimal, InvalidOperation
from typing import Final

from tally.language.scan import Unclear

_MULTIPLIERS: Final = (
    (re.compile(r"k|к|тыс\.?|тысяч\w*|thousands?", re.I), 1_000),
    (re.compile(r"m|mln|млн\.?|миллион\w*|millions?", re.I), 1_000_000),
    (re.compile(r"b|bn|млрд\.?|миллиард\w*|billions?", re.I), 1_000_000_000),
)

NUMBER: Final = (
    r"(?P<number>\d{1,3}(?:[ ,]\d{3})+(?!\d)|\d+(?:[.,]\d+)?)"
    r"(?:\s*(?P<multiplier>k|к|тыс\.?|тысяч\w*|thousands?|m|mln|млн\.?|миллион\w*|millions?"
    r"|b|bn|млрд\.?|миллиард\w*|billions?)(?!\w))?"
)
"""A regex fragment with the groups ``number`` and ``multiplier`` (see :func:`read_number`)."""


def _multiplier(word: str | None) -> int:
    if not word:
        return 1
    return next(factor for pattern, factor in _MULTIPLIERS if pattern.fullmatch(word))


def _digits(number: str) -> str:
    """``"100 000"``/``"100,000"`` -> ``"100000"``; ``"1,5"`` -> ``"1.5"``."""
    if re.fullmatch(r"\d{1,3}(?:[ ,]\d{3})+", number):
        return number.replace(" ", "").replace(",", "")
    return number.replace(",", ".")


def read_number(number: str, multiplier: str | None = None) -> int:
    """The integer written as ``number`` with an optional ``multiplier`` word ("k", "млн").

    Raises :class:`Unclear` ("number") when the result is not a whole number.
    """
    try:
        value = Decimal(_digits(number)) * _multiplier(multiplier)
    except InvalidOperation as error:
        raise Unclear("number") from error
    if value != value.to_integral_value():
        raise Unclear("number")
    return int(value)
