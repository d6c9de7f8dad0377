"""A plan's conditions in an interpretation's words: counter thresholds ("with more than
100 000 views"), ranges ("with 10–20 likes (both included)"), growth ("that gained views"),
creators and videos ("by creator xyz789"), and counters compared ("with more comments than
likes").
"""

from typing import Final

from tally.contracts.events import Language
from tally.contracts.render import format_number
from tally.language.describe_names import counter_names
from tally.semantic.plan import Comparison, Dataset, Filter, Op


def filter_phrase(condition: Filter, language: Language, dataset: Dataset) -> str:
    """One condition in words: "with more than 1000 views", "by creator xyz789"."""
    column = condition.column
    if column.startswith("delta_"):
        return _delta_filter(condition, language)
    if column.endswith("_count"):
        amount = f"{_OPS[language][condition.op]} {_value(condition.value, language)}"
        plural = counter_names(column, language)[0]
        text = f"with {amount} {plural}" if language == "en" else f"с числом {plural} {amount}"
        return text + (_AT_SNAPSHOT[language] if dataset is Dataset.SNAPSHOTS else "")
    if column == "creator_id" and condition.op is Op.EQ:
        return (
            f"by creator {condition.value}" if language == "en" else f"креатора {condition.value}"
        )
    if column == "creator_id" and condition.op is Op.NE:
        return (
            f"not by creator {condition.value}"
            if language == "en"
            else f"кроме видео креатора {condition.value}"
        )
    if column in ("id", "video_id") and condition.op is Op.EQ:
        return f"of video {condition.value}" if language == "en" else f"видео {condition.value}"
    return f"{column} {condition.op.value} {condition.value}"


_OPS: Final[dict[Language, dict[Op, str]]] = {
    "en": {
        Op.GT: "more than",
        Op.GE: "at least",
        Op.LT: "fewer than",
        Op.LE: "at most",
        Op.EQ: "exactly",
        Op.NE: "other than",
    },
    "ru": {
        Op.GT: "больше",
        Op.GE: "не меньше",
        Op.LT: "меньше",
        Op.LE: "не больше",
        Op.EQ: "ровно",
        Op.NE: "не равно",
    },
}


def _value(value: int | str, language: Language) -> str:
    return format_number(value, language) if isinstance(value, int) else value


_AT_SNAPSHOT: Final[dict[Language, str]] = {
    "en": " at an hourly snapshot",
    "ru": " на одном из почасовых замеров",
}
"""A counter compared on snapshots: the video passed the threshold at some hour."""


def _delta_filter(condition: Filter, language: Language) -> str:
    plural, singular = counter_names(condition.column, language)
    if condition.op is Op.GT and condition.value == 0:
        return f"that gained {plural}" if language == "en" else f"получавшие новые {singular}"
    if condition.op is Op.LT and condition.value == 0:
        return (
            f"with negative {singular} deltas"
            if language == "en"
            else f"с отрицательным приростом {plural}"
        )
    amount = f"{_OPS[language][condition.op]} {_value(condition.value, language)}"
    return (
        f"with {singular} growth {amount}" if language == "en" else f"с приростом {plural} {amount}"
    )


_BETWEEN: Final[dict[Language, str]] = {
    "en": "with {low}–{high} {counter} (both included)",
    "ru": "с числом {counter} от {low} до {high} (включительно)",
}


def counter_filter_phrases(
    filters: list[Filter], language: Language, dataset: Dataset
) -> list[str]:
    """Each counter filter in words; a lower and an upper bound of one counter as one range."""
    parts = []
    lows = {f.column: f for f in filters if f.op is Op.GE}
    highs = {f.column: f for f in filters if f.op is Op.LE}
    ranged = {c for c in lows.keys() & highs.keys() if not c.startswith("delta_")}
    for condition in filters:
        if condition.column not in ranged:
            parts.append(filter_phrase(condition, language, dataset))
        elif condition.op is Op.GE:
            low, high = lows[condition.column].value, highs[condition.column].value
            parts.append(
                _BETWEEN[language].format(
                    low=_value(low, language),
                    high=_value(high, language),
                    counter=counter_names(condition.column, language)[0],
                )
                + (_AT_SNAPSHOT[language] if dataset is Dataset.SNAPSHOTS else "")
            )
    return parts


_COMPARED: Final[dict[Language, dict[Op, str]]] = {
    "en": {
        Op.GT: "with more {a} than {b}",
        Op.GE: "with at least as many {a} as {b}",
        Op.LT: "with fewer {a} than {b}",
        Op.LE: "with at most as many {a} as {b}",
        Op.EQ: "with as many {a} as {b}",
        Op.NE: "with a number of {a} other than of {b}",
    },
    "ru": {
        Op.GT: "у которых {a} больше, чем {b}",
        Op.GE: "у которых {a} не меньше, чем {b}",
        Op.LT: "у которых {a} меньше, чем {b}",
        Op.LE: "у которых {a} не больше, чем {b}",
        Op.EQ: "у которых {a} столько же, сколько {b}",
        Op.NE: "у которых {a} не столько же, сколько {b}",
    },
}


def comparison_phrase(comparison: Comparison, language: Language) -> str:
    """ "with more comments than likes" / "у которых комментариев больше, чем лайков"."""
    first = counter_names(comparison.column, language)[0]
    second = counter_names(comparison.other, language)[0]
    return _COMPARED[language][comparison.op].format(a=first, b=second)
