"""What a query returned, turned into Tally's answer: one number, or a reason it is not one."""

from collections.abc import Sequence
from decimal import Decimal

from tally.infra.errors import UserFacingError


class NotANumberError(UserFacingError):
    """A query's result is not the single number Tally answers with."""


def as_number(value: object) -> int | float | None:
    """``value`` as an int or float (a whole Decimal becomes an int); None stays None.

    Raises NotANumberError for anything else (text, dates, booleans).
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise NotANumberError(
        f"The query returned a {type(value).__name__}, not a number; Tally answers with numbers."
    )


def single_number(rows: Sequence[Sequence[object]]) -> int | float | None:
    """The value of a result of exactly one row and one column, as :func:`as_number`.

    Raises NotANumberError naming the shape (rows x columns) of any other result.
    """
    columns = len(rows[0]) if rows else 0
    if len(rows) != 1 or columns != 1:
        raise NotANumberError(
            f"The query returned {len(rows)} row(s) × {columns} column(s), not a single number;"
            " Tally answers with one number."
        )
    return as_number(rows[0][0])
