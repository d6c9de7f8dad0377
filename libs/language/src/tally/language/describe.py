"""One line saying what a plan counts, in the asker's language (``QueryPlan.interpretation``).

en: "videos published 1–5 Nov 2025 (UTC) by creator xyz789";
ru: "видео, опубликованные 1–5 ноября 2025 (UTC), креатора xyz789";
rankings: "top 5 videos by view growth on 28 Nov 2025 (UTC)" / "топ-5 видео по приросту
просмотров за 28 ноября 2025 (UTC)"; series: "total view growth per day in Nov 2025 (UTC)".
Counters and counted entities are named as the semantic catalog names them.

This module words what is measured (the headline: subject, ranking or series); the time
range and calendar are worded by :mod:`describe_time`, the conditions by
:mod:`describe_filters`, a chat question whole by :mod:`describe_chat`.
"""

from typing import Final

from tally.contracts.events import Language
from tally.language.describe_chat import describe_chat
from tally.language.describe_filters import comparison_phrase, counter_filter_phrases, filter_phrase
from tally.language.describe_names import CATALOG, counter_names, join_parts
from tally.language.describe_time import SERIES, calendar_phrase, period_phrase
from tally.semantic.plan import Aggregate, Dataset, Dimension, QueryPlan


def describe(plan: QueryPlan, language: Language) -> str:
    """The one-line interpretation of ``plan`` (its own ``interpretation`` is not read)."""
    if CATALOG.chat_scoped(plan.dataset):
        return describe_chat(plan, language)
    one_video = _one_video(plan, language)
    if one_video:
        return one_video
    counters = [f for f in plan.filters if f.column.endswith("_count")]
    others = [f for f in plan.filters if not f.column.endswith("_count")]
    parts = [_headline(plan, language)]
    if plan.measure.aggregate is Aggregate.SHARE and (plan.filters or plan.time_range):
        parts.append(_AMONG[language][plan.dataset])
    parts += counter_filter_phrases(counters, language, plan.dataset)
    parts += [comparison_phrase(c, language) for c in plan.comparisons]
    if plan.time_range:
        parts.append(_owned(plan, period_phrase(plan.time_range, language), language))
    if plan.calendar:
        parts.append(calendar_phrase(plan.calendar, language, dated=plan.time_range is not None))
    parts += [filter_phrase(f, language, plan.dataset) for f in others]
    counts_all = plan.measure.aggregate is Aggregate.COUNT and plan.group_by is None
    if len(parts) == 1 and counts_all:
        return f"{_ALL[language]} {parts[0]}"
    return join_parts(parts, language)


_AMONG: Final[dict[Language, dict[Dataset, str]]] = {
    "en": {Dataset.VIDEOS: "among videos", Dataset.SNAPSHOTS: "among hourly snapshots"},
    "ru": {Dataset.VIDEOS: "среди видео", Dataset.SNAPSHOTS: "среди почасовых замеров"},
}

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
    names = counter_names(measure.column or "", language)
    return _ONE_VIDEO[language].format(*names, id=filters[0].value)


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


def _headline(plan: QueryPlan, language: Language) -> str:
    """What is measured: the subject, ranked ("top 5 videos by views") or as a series."""
    grouping = plan.group_by
    if grouping is None:
        return _subject(plan, language)
    if grouping.by.is_time:
        return f"{_subject(plan, language)} {SERIES[language][grouping.by]}"
    ranks = _FIRST if grouping.limit == 1 else _RANKS
    template = ranks[language][(grouping.by, grouping.order == "desc")]
    if grouping.rank_by is not None:
        ranked = plan.model_copy(update={"measure": grouping.rank_by})
        ranking = template.format(n=grouping.limit, measure=_ranked_by(ranked, language))
        asked = counter_names(plan.measure.column or "", language)[0]
        return _OF_RANKED[language].format(asked=asked, ranking=ranking)
    return template.format(n=grouping.limit, measure=_ranked_by(plan, language))


_OF_RANKED: Final[dict[Language, str]] = {
    "en": "{asked} of {ranking}",
    "ru": "число {asked} — {ranking}",
}
"""The counter asked about the entities a ranking on another picks."""

_SHARE: Final[dict[Language, str]] = {"en": "percentage (%) of {0}", "ru": "доля (%) {0}"}

_SHARE_ROWS: Final[dict[Language, dict[Dataset, str]]] = {
    "en": {Dataset.VIDEOS: "videos", Dataset.SNAPSHOTS: "hourly snapshots"},
    "ru": {Dataset.VIDEOS: "видео", Dataset.SNAPSHOTS: "почасовых замеров"},
}


def _subject(plan: QueryPlan, language: Language) -> str:
    measure = plan.measure
    if measure.aggregate is Aggregate.SHARE:
        where = [filter_phrase(f, language, plan.dataset) for f in measure.where]
        share = _SHARE[language].format(_SHARE_ROWS[language][plan.dataset])
        return join_parts([share, *where], language)
    if measure.period is not None:
        return _PERIOD_COUNTS[language][(measure.period, plan.dataset)]
    if measure.aggregate is Aggregate.COUNT or measure.column is None:
        return _COUNTS[language][plan.dataset]
    if measure.aggregate is Aggregate.COUNT_DISTINCT:
        return _distinct(plan.dataset, measure.column, language)
    template = _AGGREGATES[language][(measure.aggregate, measure.column.startswith("delta_"))]
    percent = _ordinal(round((measure.fraction or 0) * 100), language)
    return template.format(
        *counter_names(measure.column, language), *_ROWS[language][plan.dataset], p=percent
    )


_P: Final = ("day", "week", "month")

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


def _distinct(dataset: Dataset, column: str, language: Language) -> str:
    """What a count of distinct ``column`` counts: "creators" / "креаторы" for creator_id."""
    entity = CATALOG.columns(dataset)[column].entity
    if entity is None:
        return column
    names = CATALOG.entities[entity]
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


def _ranked_by(plan: QueryPlan, language: Language) -> str:
    measure = plan.measure
    if measure.column is None or not measure.column.endswith("_count"):
        return _NUMBER_OF_VIDEOS[language]
    counter = measure.column.removeprefix("delta_").removesuffix("_count")
    template = _RANKED[language][(measure.aggregate, measure.column.startswith("delta_"))]
    return template.format(*counter_names(measure.column, language), _DATIVE[counter])
