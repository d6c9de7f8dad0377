"""One line saying what a plan counts, in the asker's language (``QueryPlan.interpretation``).

en: "videos published 1–5 Nov 2025 (UTC) by creator xyz789";
ru: "видео, опубликованные 1–5 ноября 2025 (UTC), креатора xyz789";
rankings: "top 5 videos by view growth on 28 Nov 2025 (UTC)" / "топ-5 видео по приросту
просмотров за 28 ноября 2025 (UTC)"; series: "total view growth per day in Nov 2025 (UTC)".
Counters and counted entities are named as the semantic catalog names them.
"""

from calendar import monthrange
from datetime import date, datetime, time, timedelta
from typing import Final

from tally.contracts.events import Language
from tally.contracts.render import format_number
from tally.semantic import Names, catalog
from tally.semantic.plan import (
    EARLIEST,
    LATEST,
    Aggregate,
    Calendar,
    Comparison,
    Dataset,
    Dimension,
    Filter,
    Op,
    QueryPlan,
    Sender,
    TimeRange,
)

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
_P: Final = ("day", "week", "month")
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
        (Aggregate.MEDIAN, False): "median {0} per {3}",
        (Aggregate.MEDIAN, True): "median {1} growth per snapshot",
        (Aggregate.PERCENTILE, False): "{p} percentile of {0} per {3}",
        (Aggregate.PERCENTILE, True): "{p} percentile of {1} growth per snapshot",
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
        (Aggregate.MEDIAN, False): "медианное число {0} {3}",
        (Aggregate.MEDIAN, True): "медианный прирост {0} за замер",
        (Aggregate.PERCENTILE, False): "{p}-й процентиль числа {0} {3}",
        (Aggregate.PERCENTILE, True): "{p}-й процентиль прироста {0} за замер",
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


def _ordinal(percent: int, language: Language) -> str:
    """90 -> "90th" (en) or "90" (ru, which writes "90-й" in the template)."""
    if language == "ru":
        return str(percent)
    suffix = "th" if 10 <= percent % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(percent % 10)
    return f"{percent}{suffix or 'th'}"


_PERIOD_COUNTS: Final[dict[Language, dict[tuple[str, Dataset], str]]] = {
    "en": {
        **{(p, Dataset.VIDEOS): f"different {p}s on which videos were published" for p in _P},
        **{(p, Dataset.SNAPSHOTS): f"different {p}s with hourly snapshots" for p in _P},
    },
    "ru": {
        (p, dataset): f"число разных {word}, {rest}"
        for p, word in (("day", "дней"), ("week", "недель"), ("month", "месяцев"))
        for dataset, rest in (
            (Dataset.VIDEOS, "в которые публиковались видео"),
            (Dataset.SNAPSHOTS, "за которые есть почасовые замеры"),
        )
    },
}
_SHARE: Final[dict[Language, str]] = {"en": "percentage (%) of {0}", "ru": "доля (%) {0}"}
_SHARE_ROWS: Final[dict[Language, dict[Dataset, str]]] = {
    "en": {Dataset.VIDEOS: "videos", Dataset.SNAPSHOTS: "hourly snapshots"},
    "ru": {Dataset.VIDEOS: "видео", Dataset.SNAPSHOTS: "почасовых замеров"},
}


def _subject(plan: QueryPlan, language: Language) -> str:
    measure = plan.measure
    if measure.aggregate is Aggregate.SHARE:
        where = [_filter(f, language, plan.dataset) for f in measure.where]
        share = _SHARE[language].format(_SHARE_ROWS[language][plan.dataset])
        return _join([share, *where], language)
    if measure.period is not None:
        return _PERIOD_COUNTS[language][(measure.period, plan.dataset)]
    if measure.aggregate is Aggregate.COUNT or measure.column is None:
        return _COUNTS[language][plan.dataset]
    if measure.aggregate is Aggregate.COUNT_DISTINCT:
        return _distinct(plan.dataset, measure.column, language)
    template = _AGGREGATES[language][(measure.aggregate, measure.column.startswith("delta_"))]
    percent = _ordinal(round((measure.fraction or 0) * 100), language)
    return template.format(
        *_counter(measure.column, language), *_ROWS[language][plan.dataset], p=percent
    )


_DATIVE: Final = {
    "views": "просмотрам",
    "likes": "лайкам",
    "comments": "комментариям",
    "reports": "жалобам",
}
_RANKED: Final[dict[Language, dict[tuple[Aggregate, bool], str]]] = {
    # What a ranking ranks by; {0}/{1} as in _AGGREGATES, {2} the Russian dative plural.
    "en": {
        (Aggregate.SUM, False): "{0}",
        (Aggregate.SUM, True): "{1} growth",
        (Aggregate.AVG, False): "average {0}",
        (Aggregate.AVG, True): "average {1} growth",
        (Aggregate.MAX, False): "maximum {0}",
        (Aggregate.MAX, True): "maximum {1} growth",
        (Aggregate.MIN, False): "minimum {0}",
        (Aggregate.MIN, True): "minimum {1} growth",
    },
    "ru": {
        (Aggregate.SUM, False): "{2}",
        (Aggregate.SUM, True): "приросту {0}",
        (Aggregate.AVG, False): "среднему числу {0}",
        (Aggregate.AVG, True): "среднему приросту {0}",
        (Aggregate.MAX, False): "максимуму {0}",
        (Aggregate.MAX, True): "максимальному приросту {0}",
        (Aggregate.MIN, False): "минимуму {0}",
        (Aggregate.MIN, True): "минимальному приросту {0}",
    },
}
_RANKS: Final[dict[Language, dict[tuple[Dimension, bool], str]]] = {
    # (entity, descending) -> "top 5 videos by {measure}"; {n} is the limit.
    "en": {
        (Dimension.VIDEO, True): "top {n} videos by {measure}",
        (Dimension.VIDEO, False): "bottom {n} videos by {measure}",
        (Dimension.CREATOR, True): "top {n} creators by {measure}",
        (Dimension.CREATOR, False): "bottom {n} creators by {measure}",
    },
    "ru": {
        (Dimension.VIDEO, True): "топ-{n} видео по {measure}",
        (Dimension.VIDEO, False): "антитоп-{n} видео по {measure}",
        (Dimension.CREATOR, True): "топ-{n} креаторов по {measure}",
        (Dimension.CREATOR, False): "антитоп-{n} креаторов по {measure}",
    },
}
_FIRST: Final[dict[Language, dict[tuple[Dimension, bool], str]]] = {
    "en": {
        (Dimension.VIDEO, True): "the top video by {measure}",
        (Dimension.VIDEO, False): "the bottom video by {measure}",
        (Dimension.CREATOR, True): "the top creator by {measure}",
        (Dimension.CREATOR, False): "the bottom creator by {measure}",
    },
    "ru": {
        (Dimension.VIDEO, True): "первое место среди видео по {measure}",
        (Dimension.VIDEO, False): "последнее место среди видео по {measure}",
        (Dimension.CREATOR, True): "первое место среди креаторов по {measure}",
        (Dimension.CREATOR, False): "последнее место среди креаторов по {measure}",
    },
}
"""A ranking of one: "the top creator by number of videos"."""
_NUMBER_OF_VIDEOS: Final[dict[Language, str]] = {"en": "number of videos", "ru": "числу видео"}
_SERIES: Final[dict[Language, dict[Dimension, str]]] = {
    "en": {Dimension.DAY: "per day", Dimension.HOUR: "per hour"},
    "ru": {Dimension.DAY: "по дням", Dimension.HOUR: "по часам"},
}


def _ranked_by(plan: QueryPlan, language: Language) -> str:
    measure = plan.measure
    if measure.column is None or not measure.column.endswith("_count"):
        return _NUMBER_OF_VIDEOS[language]
    counter = measure.column.removeprefix("delta_").removesuffix("_count")
    template = _RANKED[language][(measure.aggregate, measure.column.startswith("delta_"))]
    return template.format(*_counter(measure.column, language), _DATIVE[counter])


def _headline(plan: QueryPlan, language: Language) -> str:
    """What is measured: the subject, ranked ("top 5 videos by views") or as a series."""
    grouping = plan.group_by
    if grouping is None:
        return _subject(plan, language)
    if grouping.by.is_time:
        return f"{_subject(plan, language)} {_SERIES[language][grouping.by]}"
    ranks = _FIRST if grouping.limit == 1 else _RANKS
    template = ranks[language][(grouping.by, grouping.order == "desc")]
    if grouping.rank_by is not None:
        ranked = plan.model_copy(update={"measure": grouping.rank_by})
        ranking = template.format(n=grouping.limit, measure=_ranked_by(ranked, language))
        asked = _counter(plan.measure.column or "", language)[0]
        return _OF_RANKED[language].format(asked=asked, ranking=ranking)
    return template.format(n=grouping.limit, measure=_ranked_by(plan, language))


_OF_RANKED: Final[dict[Language, str]] = {
    "en": "{asked} of {ranking}",
    "ru": "число {asked} — {ranking}",
}
"""The counter asked about the entities a ranking on another picks."""


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


_AT_SNAPSHOT: Final[dict[Language, str]] = {
    "en": " at an hourly snapshot",
    "ru": " на одном из почасовых замеров",
}
"""A counter compared on snapshots: the video passed the threshold at some hour."""


def _filter(condition: Filter, language: Language, dataset: Dataset) -> str:
    column = condition.column
    if column.startswith("delta_"):
        return _delta_filter(condition, language)
    if column.endswith("_count"):
        amount = f"{_OPS[language][condition.op]} {_value(condition.value, language)}"
        plural = _counter(column, language)[0]
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


_OPEN: Final[dict[Language, dict[tuple[bool, bool], str]]] = {
    # (open to the future, is it the publication date) -> a range open on one side.
    "en": {
        (True, True): "published on or after {day}",
        (True, False): "on or after {day}",
        (False, True): "published on or before {day}",
        (False, False): "on or before {day}",
    },
    "ru": {
        (True, True): "опубликованные {day} или позже",
        (True, False): "начиная с {day}",
        (False, True): "опубликованные {day} или раньше",
        (False, False): "по {day} включительно",
    },
}


def _period(span: TimeRange, language: Language) -> str:
    """The range in words, e.g. "published in Nov 2025 (UTC)" / "за 28 ноября 2025 (UTC)"."""
    start, end = span.start.astimezone(span.zone), span.end.astimezone(span.zone)
    published = span.column == "video_created_at"
    if (span.start == EARLIEST) != (span.end == LATEST):
        after = span.end == LATEST
        day = start.date() if after else end.date() - timedelta(days=1)
        template = _OPEN[language][(after, published)]
        return f"{template.format(day=_day(day, language))} ({span.timezone})"
    if start.time() != time() or end.time() != time():
        return f"{_hours(start, end, language, published)} ({span.timezone})"
    first, last = start.date(), end.date() - timedelta(days=1)
    return f"{_days(first, last, language, published)} ({span.timezone})"


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


_ONE_VIDEO: Final[dict[Language, str]] = {"en": "{0} of video {id}", "ru": "{1} видео {id}"}
"""The counter of one video: "views of video 0f8c…" / "просмотры видео 0f8c…"."""


def _one_video(plan: QueryPlan, language: Language) -> str | None:
    """The whole line for a video's own counter, or None for any other plan."""
    measure, filters = plan.measure, plan.filters
    if plan.dataset is not Dataset.VIDEOS or plan.group_by or plan.time_range:
        return None
    if len(filters) != 1 or filters[0].column != "id" or measure.aggregate is not Aggregate.SUM:
        return None
    names = _counter(measure.column or "", language)
    return _ONE_VIDEO[language].format(*names, id=filters[0].value)


_CHAT_SUBJECTS: Final[dict[Language, dict[tuple[Dataset, str, str | None], str]]] = {
    # (dataset, aggregate, member change) -> what a chat question counts.
    "en": {
        (Dataset.MESSAGES, "count", None): "messages in this chat",
        (Dataset.MESSAGES, "count_distinct", None): "people who wrote in this chat",
        (Dataset.MEMBER_EVENTS, "count_distinct", "join"): "people who joined this chat",
        (Dataset.MEMBER_EVENTS, "count_distinct", "leave"): "people who left this chat",
        (Dataset.MEMBER_EVENTS, "count", "join"): "joins to this chat",
        (Dataset.MEMBER_EVENTS, "count", "leave"): "departures from this chat",
    },
    "ru": {
        (Dataset.MESSAGES, "count", None): "сообщения в этом чате",
        (Dataset.MESSAGES, "count_distinct", None): "участники, писавшие в этом чате",
        (Dataset.MEMBER_EVENTS, "count_distinct", "join"): "участники, вступившие в этот чат",
        (Dataset.MEMBER_EVENTS, "count_distinct", "leave"): "участники, покинувшие этот чат",
        (Dataset.MEMBER_EVENTS, "count", "join"): "вступления в этот чат",
        (Dataset.MEMBER_EVENTS, "count", "leave"): "выходы из этого чата",
    },
}
_CHAT_RANKS: Final[dict[Language, dict[tuple[bool, bool], str]]] = {
    # (one person, most active) -> a ranking of people by their messages.
    "en": {
        (True, True): "the most active person in this chat (by messages)",
        (True, False): "the least active person in this chat (by messages)",
        (False, True): "top {n} people by messages in this chat",
        (False, False): "bottom {n} people by messages in this chat",
    },
    "ru": {
        (True, True): "самый активный участник этого чата (по числу сообщений)",
        (True, False): "самый неактивный участник этого чата (по числу сообщений)",
        (False, True): "топ-{n} участников по числу сообщений в этом чате",
        (False, False): "антитоп-{n} участников по числу сообщений в этом чате",
    },
}


def _chat_headline(plan: QueryPlan, language: Language) -> str:
    grouping, measure = plan.group_by, plan.measure
    if grouping is not None and grouping.by is Dimension.USER:
        template = _CHAT_RANKS[language][(grouping.limit == 1, grouping.order == "desc")]
        return template.format(n=grouping.limit)
    change = next((f.value for f in plan.filters if f.column == "change"), None)
    key = (plan.dataset, measure.aggregate.value, change if isinstance(change, str) else None)
    subject = _CHAT_SUBJECTS[language].get(key)
    if subject is None:
        where = "in this chat" if language == "en" else "в этом чате"
        subject = f"{measure.aggregate.value}({measure.column or '*'}) {plan.dataset.value} {where}"
    if grouping is not None and grouping.by.is_time:
        return f"{subject} {_SERIES[language][grouping.by]}"
    return subject


def _describe_chat(plan: QueryPlan, language: Language) -> str:
    """A chat question: what is counted in this chat, then the period (UTC) and any filter
    other than the member change the headline already says."""
    parts = [_chat_headline(plan, language)]
    if plan.time_range:
        parts.append(_period(plan.time_range, language))
    if plan.calendar:
        parts.append(_calendar(plan.calendar, language, dated=True))
    parts += [_chat_filter(f, language) for f in plan.filters if f.column != "change"]
    if plan.sender is not None:
        parts += _sender(plan.sender, language)
    return _join(parts, language)


_CONTENT: Final[dict[Language, dict[str, str]]] = {
    "en": {"links": "with links", "hashtags": "with hashtags", "mentions": "with @mentions"},
    "ru": {"links": "со ссылками", "hashtags": "с хэштегами", "mentions": "с упоминаниями"},
}
_TYPE: Final[dict[Language, str]] = {"en": "of type {0}", "ru": "типа {0}"}


def _chat_filter(condition: Filter, language: Language) -> str:
    """ "with links" / "со ссылками"; "of type photo" / "типа photo"."""
    if condition.column in _CONTENT[language] and (condition.op, condition.value) == (Op.GT, 0):
        return _CONTENT[language][condition.column]
    if condition.column == "message_type" and condition.op is Op.EQ:
        return _TYPE[language].format(condition.value)
    return f"{condition.column} {condition.op.value} {condition.value}"


def _sender(sender: Sender, language: Language) -> list[str]:
    """ "by anna" / "от участника anna"; "not counting bots" / "без учёта ботов"."""
    parts = []
    if sender.name is not None:
        parts.append(f"by {sender.name}" if language == "en" else f"от участника {sender.name}")
    if not sender.bots:
        parts.append("not counting bots" if language == "en" else "без учёта ботов")
    return parts


def describe(plan: QueryPlan, language: Language) -> str:
    """The one-line interpretation of ``plan`` (its own ``interpretation`` is not read)."""
    if _CATALOG.chat_scoped(plan.dataset):
        return _describe_chat(plan, language)
    one_video = _one_video(plan, language)
    if one_video:
        return one_video
    counters = [f for f in plan.filters if f.column.endswith("_count")]
    others = [f for f in plan.filters if not f.column.endswith("_count")]
    parts = [_headline(plan, language)]
    if plan.measure.aggregate is Aggregate.SHARE and (plan.filters or plan.time_range):
        parts.append(_AMONG[language][plan.dataset])
    parts += _counter_filters(counters, language, plan.dataset)
    parts += [_comparison(c, language) for c in plan.comparisons]
    if plan.time_range:
        parts.append(_owned(plan, _period(plan.time_range, language), language))
    if plan.calendar:
        parts.append(_calendar(plan.calendar, language, dated=plan.time_range is not None))
    parts += [_filter(f, language, plan.dataset) for f in others]
    counts_all = plan.measure.aggregate is Aggregate.COUNT and plan.group_by is None
    if len(parts) == 1 and counts_all:
        return f"{_ALL[language]} {parts[0]}"
    return _join(parts, language)


_AMONG: Final[dict[Language, dict[Dataset, str]]] = {
    "en": {Dataset.VIDEOS: "among videos", Dataset.SNAPSHOTS: "among hourly snapshots"},
    "ru": {Dataset.VIDEOS: "среди видео", Dataset.SNAPSHOTS: "среди почасовых замеров"},
}
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


def _comparison(comparison: Comparison, language: Language) -> str:
    """ "with more comments than likes" / "у которых комментариев больше, чем лайков"."""
    first = _counter(comparison.column, language)[0]
    second = _counter(comparison.other, language)[0]
    return _COMPARED[language][comparison.op].format(a=first, b=second)


_EN_DAYS: Final = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)
_RU_DAYS: Final = (
    "понедельникам",
    "вторникам",
    "средам",
    "четвергам",
    "пятницам",
    "субботам",
    "воскресеньям",
)
_DAY_GROUPS: Final[dict[Language, dict[tuple[int, ...], str]]] = {
    "en": {(1, 2, 3, 4, 5): "on weekdays (Mon–Fri)", (6, 7): "at weekends (Sat–Sun)"},
    "ru": {(1, 2, 3, 4, 5): "в будние дни (пн–пт)", (6, 7): "в выходные (сб–вс)"},
}


_BETWEEN: Final[dict[Language, str]] = {
    "en": "with {low}–{high} {counter} (both included)",
    "ru": "с числом {counter} от {low} до {high} (включительно)",
}


def _counter_filters(filters: list[Filter], language: Language, dataset: Dataset) -> list[str]:
    """Each counter filter in words; a lower and an upper bound of one counter as one range."""
    parts = []
    lows = {f.column: f for f in filters if f.op is Op.GE}
    highs = {f.column: f for f in filters if f.op is Op.LE}
    ranged = {c for c in lows.keys() & highs.keys() if not c.startswith("delta_")}
    for condition in filters:
        if condition.column not in ranged:
            parts.append(_filter(condition, language, dataset))
        elif condition.op is Op.GE:
            low, high = lows[condition.column].value, highs[condition.column].value
            parts.append(
                _BETWEEN[language].format(
                    low=_value(low, language),
                    high=_value(high, language),
                    counter=_counter(condition.column, language)[0],
                )
                + (_AT_SNAPSHOT[language] if dataset is Dataset.SNAPSHOTS else "")
            )
    return parts


def _calendar(calendar: Calendar, language: Language, *, dated: bool = False) -> str:
    """ "on Saturdays, 00:00–09:00 (UTC)" / "по субботам, 00:00–09:00 (UTC)"."""
    parts = []
    if calendar.weekdays:
        days = tuple(sorted(calendar.weekdays))
        names = _EN_DAYS if language == "en" else _RU_DAYS
        listed = (
            " and ".join(names[d - 1] for d in days)
            if language == "en"
            else ", ".join(names[d - 1] for d in days)
        )
        on = f"on {listed}" if language == "en" else f"по {listed}"
        parts.append(_DAY_GROUPS[language].get(days, on))
    if calendar.hours is not None:
        start, end = calendar.hours
        parts.append(f"{start:02d}:00–{end:02d}:00")
    published = calendar.column == "video_created_at" and not dated
    prefix = ("published " if language == "en" else "опубликованные ") if published else ""
    return f"{prefix}{', '.join(parts)} ({calendar.timezone})"


def _join(parts: list[str], language: Language) -> str:
    """English parts follow each other; a Russian participle or owner phrase takes a comma."""
    if language == "en":
        return " ".join(parts)
    glued = (f" {part}" if part.startswith(("с ", "за ")) else f", {part}" for part in parts[1:])
    return parts[0] + "".join(glued)
