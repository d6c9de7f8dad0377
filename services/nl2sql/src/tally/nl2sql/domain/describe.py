"""One line saying what a plan counts, in the asker's language (``QueryPlan.interpretation``).

en: "videos published 1–5 Nov 2025 (UTC) by creator xyz789";
ru: "видео, опубликованные 1–5 ноября 2025 (UTC), креатора xyz789".
Counters and counted entities are named as the semantic catalog names them.
"""

from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from tally.common.events import Language
from tally.common.plan import Aggregate, Dataset, Filter, Op, QueryPlan, TimeRange
from tally.common.render import format_number
from tally.common.semantic import Names, catalog

# fmt: off
_EN_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)
_RU_GENITIVE: Final = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)
_RU_NOMINATIVE: Final = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)
_RU_PREPOSITIONAL: Final = (
    "январе", "феврале", "марте", "апреле", "мае", "июне",
    "июле", "августе", "сентябре", "октябре", "ноябре", "декабре",
)
# fmt: on

_CATALOG: Final = catalog()
_COUNTER_OF: Final = {
    name: column.counter
    for dataset in _CATALOG.datasets.values()
    for name, column in dataset.columns.items()
    if column.counter is not None
}
"""Counter and delta columns with their counter: ``{"delta_views_count": "views", ...}``."""


def _names(names: Names, language: Language) -> tuple[str, str]:
    """(plural, singular) in English; (genitive plural, nominative plural) in Russian."""
    if language == "en":
        return names.en.plural, names.en.singular
    return names.ru.plural_genitive, names.ru.plural


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
_COUNTS: Final[dict[Language, dict[Dataset, str]]] = {
    "en": {Dataset.VIDEOS: "videos", Dataset.SNAPSHOTS: "hourly snapshots"},
    "ru": {Dataset.VIDEOS: "видео", Dataset.SNAPSHOTS: "почасовые замеры"},
}
_AGGREGATES: Final[dict[Language, dict[tuple[Aggregate, bool], str]]] = {
    # {0}/{1}: the counter (plural, singular | genitive, nominative); {2}/{3}: the rows aggregated.
    "en": {
        (Aggregate.SUM, False): "total {0} of {2}",
        (Aggregate.SUM, True): "total {1} growth",
        (Aggregate.AVG, False): "average {0} per {3}",
        (Aggregate.AVG, True): "average {1} growth per snapshot",
        (Aggregate.MAX, False): "maximum {0} of one {3}",
        (Aggregate.MAX, True): "maximum {1} growth in one snapshot",
        (Aggregate.MIN, False): "minimum {0} of one {3}",
        (Aggregate.MIN, True): "minimum {1} growth in one snapshot",
    },
    "ru": {
        (Aggregate.SUM, False): "сумма {0} {2}",
        (Aggregate.SUM, True): "суммарный прирост {0}",
        (Aggregate.AVG, False): "среднее число {0} {3}",
        (Aggregate.AVG, True): "средний прирост {0} за замер",
        (Aggregate.MAX, False): "максимум {0} у {3}",
        (Aggregate.MAX, True): "максимальный прирост {0} за замер",
        (Aggregate.MIN, False): "минимум {0} у {3}",
        (Aggregate.MIN, True): "минимальный прирост {0} за замер",
    },
}
_ROWS: Final[dict[Language, dict[Dataset, tuple[str, str]]]] = {
    "en": {Dataset.VIDEOS: ("videos", "video"), Dataset.SNAPSHOTS: ("snapshots", "snapshot")},
    "ru": {
        Dataset.VIDEOS: ("всех видео", "одного видео"),
        Dataset.SNAPSHOTS: ("всех замеров", "одного замера"),
    },
}


def _counter(column: str, language: Language) -> tuple[str, str]:
    """The names of the counter ``column`` holds or whose change it holds."""
    return _names(_CATALOG.counters[_COUNTER_OF[column]], language)


def _distinct(dataset: Dataset, column: str, language: Language) -> str:
    """What a count of distinct ``column`` counts: "creators" / "креаторы" for creator_id."""
    entity = _CATALOG.columns(dataset)[column].entity
    if entity is None:
        return column
    names = _CATALOG.entities[entity]
    return names.en.plural if language == "en" else names.ru.plural


def _subject(plan: QueryPlan, language: Language) -> str:
    measure = plan.measure
    if measure.aggregate is Aggregate.COUNT or measure.column is None:
        return _COUNTS[language][plan.dataset]
    if measure.aggregate is Aggregate.COUNT_DISTINCT:
        return _distinct(plan.dataset, measure.column, language)
    template = _AGGREGATES[language][(measure.aggregate, measure.column.startswith("delta_"))]
    return template.format(*_counter(measure.column, language), *_ROWS[language][plan.dataset])


def _delta_filter(condition: Filter, language: Language) -> str:
    plural, singular = _counter(condition.column, language)
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


def _value(value: int | str, language: Language) -> str:
    return format_number(value, language) if isinstance(value, int) else value


def _filter(condition: Filter, language: Language) -> str:
    column = condition.column
    if column.startswith("delta_"):
        return _delta_filter(condition, language)
    if column.endswith("_count"):
        amount = f"{_OPS[language][condition.op]} {_value(condition.value, language)}"
        plural = _counter(column, language)[0]
        return f"with {amount} {plural}" if language == "en" else f"с числом {plural} {amount}"
    if column == "creator_id" and condition.op is Op.EQ:
        return (
            f"by creator {condition.value}" if language == "en" else f"креатора {condition.value}"
        )
    return f"{column} {condition.op.value} {condition.value}"


def _day(day: date, language: Language, *, year: bool = True) -> str:
    month = _EN_MONTHS[day.month - 1] if language == "en" else _RU_GENITIVE[day.month - 1]
    return f"{day.day} {month} {day.year}" if year else f"{day.day} {month}"


def _range(first: date, last: date, language: Language) -> str:
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{_day(last, language)}"
    return f"{_day(first, language, year=first.year != last.year)} – {_day(last, language)}"


_PERIODS: Final[dict[Language, dict[tuple[str, bool], str]]] = {
    # (kind of period, is it the publication date) -> words with their preposition.
    "en": {
        ("day", True): "published on {day}",
        ("day", False): "on {day}",
        ("month", True): "published in {month}",
        ("month", False): "in {month}",
        ("year", True): "published in {year}",
        ("year", False): "in {year}",
        ("range", True): "published {range}",
        ("range", False): "during {range}",
    },
    "ru": {
        ("day", True): "опубликованные {day}",
        ("day", False): "за {day}",
        ("month", True): "опубликованные в {month_in}",
        ("month", False): "за {month}",
        ("year", True): "опубликованные в {year} году",
        ("year", False): "за {year} год",
        ("range", True): "опубликованные {range}",
        ("range", False): "за {range}",
    },
}


def _kind(first: date, last: date) -> str:
    if first == last:
        return "day"
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and first.year == last.year:
        return "year"
    if first.day == 1 and last == first.replace(day=monthrange(first.year, first.month)[1]):
        return "month"
    return "range"


def _days(first: date, last: date, language: Language, published: bool) -> str:
    """The period in words with its preposition, e.g. "in Nov 2025" / "за ноябрь 2025"."""
    month = first.month - 1
    names = _EN_MONTHS if language == "en" else _RU_NOMINATIVE
    return _PERIODS[language][(_kind(first, last), published)].format(
        day=_day(first, language),
        range=_range(first, last, language),
        year=first.year,
        month=f"{names[month]} {first.year}",
        month_in=f"{_RU_PREPOSITIONAL[month]} {first.year}",
    )


_HOURS: Final[dict[Language, dict[tuple[bool, bool], str]]] = {
    # (within one day, is it the publication date) -> words for a range that is not whole days.
    "en": {
        (True, True): "published on {day} {hours}",
        (True, False): "on {day} {hours}",
        (False, True): "published from {start} to {end}",
        (False, False): "from {start} to {end}",
    },
    "ru": {
        (True, True): "опубликованные {day}, {hours}",
        (True, False): "за {day}, {hours}",
        (False, True): "опубликованные с {start} по {end}",
        (False, False): "с {start} по {end}",
    },
}


def _clock(moment: datetime, first: date) -> str:
    """``"10:00"``; the midnight that ends ``first`` is ``"24:00"``."""
    if moment.date() > first and moment.time() == time():
        return "24:00"
    return f"{moment:%H:%M}" if moment.second == 0 else f"{moment:%H:%M:%S}"


def _hours(start: datetime, end: datetime, language: Language, published: bool) -> str:
    """A range that is not whole UTC days: "on 28 Nov 2025 10:00–15:00" or, across days,
    "from 28 Nov 2025 10:00 to 29 Nov 2025 15:00" (ru: "за 28 ноября 2025, 10:00–15:00")."""
    first = start.date()
    one_day = end.date() == first or (end.date() == first + timedelta(1) and end.time() == time())
    separator = " " if language == "en" else ", "
    return _HOURS[language][(one_day, published)].format(
        day=_day(first, language),
        hours=f"{_clock(start, first)}–{_clock(end, first)}",
        start=f"{_day(first, language)}{separator}{start:%H:%M}",
        end=f"{_day(end.date(), language)}{separator}{end:%H:%M}",
    )


def _period(span: TimeRange, language: Language) -> str:
    """The range in words, e.g. "published in Nov 2025 (UTC)" / "за 28 ноября 2025 (UTC)"."""
    start, end = span.start.astimezone(UTC), span.end.astimezone(UTC)
    published = span.column == "video_created_at"
    if start.time() != time() or end.time() != time():
        return f"{_hours(start, end, language, published)} (UTC)"
    first, last = start.date(), end.date() - timedelta(days=1)
    return f"{_days(first, last, language, published)} (UTC)"


_CREATORS_PUBLISHED: Final[dict[Language, tuple[str, str]]] = {
    "en": ("published", "with videos published"),
    "ru": ("опубликованные", "публиковавшие видео"),
}


def _owned(plan: QueryPlan, period: str, language: Language) -> str:
    """Creators are not published, their videos are: "creators with videos published …"."""
    if plan.measure.column != "creator_id":
        return period
    old, new = _CREATORS_PUBLISHED[language]
    return new + period.removeprefix(old) if period.startswith(old) else period


_ALL: Final[dict[Language, str]] = {"en": "all", "ru": "все"}
"""An unfiltered count of rows says so: "all videos", not just "videos"."""


def describe(plan: QueryPlan, language: Language) -> str:
    """The one-line interpretation of ``plan`` (its own ``interpretation`` is not read)."""
    counters = [f for f in plan.filters if f.column.endswith("_count")]
    others = [f for f in plan.filters if not f.column.endswith("_count")]
    parts = [_subject(plan, language), *(_filter(f, language) for f in counters)]
    if plan.time_range:
        parts.append(_owned(plan, _period(plan.time_range, language), language))
    parts += [_filter(f, language) for f in others]
    if len(parts) == 1 and plan.measure.column is None:
        return f"{_ALL[language]} {parts[0]}"
    return _join(parts, language)


def _join(parts: list[str], language: Language) -> str:
    """English parts follow each other; a Russian participle or owner phrase takes a comma."""
    if language == "en":
        return " ".join(parts)
    glued = (f" {part}" if part.startswith(("с ", "за ")) else f", {part}" for part in parts[1:])
    return parts[0] + "".join(glued)
