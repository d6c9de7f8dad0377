"""A :class:`QueryPlan` built from what a question says (:mod:`signals`) and the phrases
read off it (:mod:`taken`): the measure, the filters, the time range on the right time
column, the calendar, the grouping, a share.

Raises :class:`Unclear` when the question leaves the plan open ("date_meaning": publication
or growth; "counter": which counter), for :mod:`readings` to offer the alternatives.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from tally.language.dates import DaySpan
from tally.language.hours import HourWindow
from tally.language.scan import Unclear
from tally.language.signals import ANY_COUNTER, Signals
from tally.language.taken import Taken
from tally.semantic.plan import (
    EARLIEST,
    LATEST,
    MAX_SERIES,
    Aggregate,
    Calendar,
    Dataset,
    Filter,
    Grouping,
    Measure,
    Op,
    QueryPlan,
    TimeRange,
)


def build(signals: Signals, taken: Taken) -> QueryPlan:
    """The plan (its ``interpretation`` empty) for ``signals`` and ``taken``; raises
    :class:`Unclear` when it cannot be built with certainty ("date_meaning", "counter",
    "hours", "series_range", ...)."""
    measure = _measure(signals, taken)
    filters = _filters(signals, measure, taken)
    time_range, calendar = None, None
    if taken.span:
        column = _time_column(signals, measure, filters)
        time_range = time_range_of(column, taken.span, taken.hours)
    if taken.calendar:
        column = time_range.column if time_range else _time_column(signals, measure, filters)
        calendar = Calendar(
            column=column, weekdays=taken.calendar.weekdays, hours=taken.calendar.hours
        )
    if taken.share:
        measure, filters = _share(measure, filters, taken)
    return QueryPlan(
        dataset=signals.dataset,
        measure=measure,
        filters=filters,
        time_range=time_range,
        group_by=grouping_of(taken, time_range, _rank_by(signals, taken, measure)),
        comparisons=taken.pairs,
        calendar=calendar,
        interpretation="",
    )


_STATISTICS: Final = (
    Aggregate.AVG,
    Aggregate.MAX,
    Aggregate.MIN,
    Aggregate.MEDIAN,
    Aggregate.PERCENTILE,
)


def _measure(signals: Signals, taken: Taken) -> Measure:
    target, aggregate = signals.target, signals.aggregate
    if target == ANY_COUNTER:
        raise Unclear("counter")
    if taken.period:
        if aggregate is not None:
            raise Unclear("unknown")
        return Measure(aggregate=Aggregate.COUNT_DISTINCT, period=taken.period)
    if aggregate in _STATISTICS or (target is None and aggregate):
        if target in ("video", "creator", "snapshot"):
            raise Unclear("unknown")
        column = signals.column(signals.counter())
        return Measure(aggregate=aggregate, column=column, fraction=taken.fraction)
    if target and target.endswith("_count"):
        return Measure(aggregate=Aggregate.SUM, column=signals.column(signals.counter()))
    return _count(signals)


def _count(signals: Signals) -> Measure:
    snapshots = signals.dataset is Dataset.SNAPSHOTS
    if signals.target == "video":
        if snapshots:
            return Measure(aggregate=Aggregate.COUNT_DISTINCT, column="video_id")
        return Measure(aggregate=Aggregate.COUNT)
    if signals.target == "creator":
        return Measure(aggregate=Aggregate.COUNT_DISTINCT, column="creator_id")
    if signals.target == "snapshot":
        return Measure(aggregate=Aggregate.COUNT)
    raise Unclear("unknown")


def _change_filters(signals: Signals, measure: Measure, compared: bool) -> list[Filter]:
    """``delta > 0`` for "gained views", ``delta < 0`` for "lost views" / "negative deltas"."""
    if signals.dataset is Dataset.VIDEOS or not (signals.growth or signals.decline):
        return []
    op = Op.LT if signals.decline else Op.GT
    if measure.aggregate not in (Aggregate.COUNT, Aggregate.COUNT_DISTINCT):
        return (
            [Filter(column=measure.column, op=op, value=0)]
            if signals.decline and measure.column
            else []
        )
    if compared and signals.target != "snapshot":
        raise Unclear("growth_threshold")
    if compared:
        return []
    return [Filter(column=f"delta_{signals.counter()}", op=op, value=0)]


def _filters(signals: Signals, measure: Measure, taken: Taken) -> tuple[Filter, ...]:
    filters = [
        Filter(column=signals.column(c.counter), op=c.op, value=c.value) for c in taken.comparisons
    ]
    filters += _change_filters(signals, measure, bool(taken.comparisons))
    if taken.video:
        column = "id" if signals.dataset is Dataset.VIDEOS else "video_id"
        filters.append(Filter(column=column, op=Op.EQ, value=taken.video))
    if taken.creator:
        filters.append(Filter(column="creator_id", op=Op.EQ, value=taken.creator))
    if taken.excluded:
        if taken.excluded == taken.creator:
            raise Unclear("creator")
        filters.append(Filter(column="creator_id", op=Op.NE, value=taken.excluded))
    return tuple(filters)


def _time_column(signals: Signals, measure: Measure, filters: tuple[Filter, ...]) -> str:
    """Which time the date is about; raises :class:`Unclear` ("date_meaning") when unsure."""
    if signals.dataset is Dataset.SNAPSHOTS:
        if signals.published:
            raise Unclear("date_meaning")
        return "created_at"
    counts = measure.aggregate is Aggregate.COUNT or measure.column == "creator_id"
    if signals.published or (counts and not any(f.column.endswith("_count") for f in filters)):
        return "video_created_at"
    raise Unclear("date_meaning")


def _at(day: date, offset: timedelta, zone: str) -> datetime:
    """``offset`` after midnight of ``day`` on the wall clock of ``zone``, as a UTC instant."""
    wall = datetime.combine(day, time()) + offset
    return wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def time_range_of(
    column: str, span: DaySpan, hours: HourWindow | None, zone: str = "UTC"
) -> TimeRange:
    """The half-open range ``[first 00:00, last + 1 day 00:00)`` on the calendar of ``zone``,
    or with an hour window (one day only) ``[day + start, day + end)``; raises
    :class:`Unclear` ("hours") for an hour window over several days."""
    first, last = span.first, span.last + timedelta(days=1)
    start, end = _at(first, timedelta(), zone), _at(last, timedelta(), zone)
    start, end = EARLIEST if span.before else start, LATEST if span.after else end
    if hours:
        if span.first != span.last or span.before or span.after:
            raise Unclear("hours")
        start, end = _at(first, hours.start, zone), _at(first, hours.end, zone)
    return TimeRange.model_validate(
        {"column": column, "start": start, "end": end, "timezone": zone}
    )


def grouping_of(
    taken: Taken, time_range: TimeRange | None, rank_by: Measure | None = None
) -> Grouping | None:
    """The plan's grouping; raises :class:`Unclear` ("series_range") for a series without a
    period, ("series_long") for one longer than the plan allows."""
    if taken.ranking:
        order = "desc" if taken.ranking.descending else "asc"
        ranking = taken.ranking
        return Grouping(by=ranking.dimension, order=order, limit=ranking.limit, rank_by=rank_by)
    if taken.series is None:
        return None
    if time_range is None:
        raise Unclear("series_range")
    if time_range.end - time_range.start > MAX_SERIES[taken.series]:
        raise Unclear("series_long")
    return Grouping(by=taken.series)


def _share(
    measure: Measure, filters: tuple[Filter, ...], taken: Taken
) -> tuple[Measure, tuple[Filter, ...]]:
    """A share: the counter conditions are what is measured, the rest the set it is out of.
    Raises :class:`Unclear` ("unknown") when no counter condition is named."""
    where = tuple(f for f in filters if f.column.endswith("_count"))
    if not where or taken.pairs or measure.aggregate is not Aggregate.COUNT:
        raise Unclear("unknown")
    rest = tuple(f for f in filters if f not in where)
    return Measure(aggregate=Aggregate.SHARE, where=where), rest


def _rank_by(signals: Signals, taken: Taken, measure: Measure) -> Measure | None:
    """The measure a superlative ranks by when the question asks about another counter."""
    ranked_by = taken.ranking.counter if taken.ranking else None
    if ranked_by is None or measure.column is None:
        return None
    column = signals.column(ranked_by)
    return None if column == measure.column else Measure(aggregate=measure.aggregate, column=column)
