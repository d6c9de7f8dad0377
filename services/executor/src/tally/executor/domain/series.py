"""Rows of a grouped plan's result, as the answer's ``GroupRow``s.

Entities keep the query's rank order. A series has every bucket of the plan's time range (a
day or hour of the range's zone, as wall-clock time there), in time order: the query returns
only the buckets that have rows, the others are filled in with the measure of no rows (0 for
counts and sums, None for averages, minima and maxima, as the compiler's SQL gives for an
ungrouped plan over no rows).
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from tally.contracts.events import GroupRow
from tally.semantic.plan import Aggregate, Dimension, QueryPlan, TimeRange
from tally.semantic.results import as_number

STEPS: Final = {Dimension.DAY: timedelta(days=1), Dimension.HOUR: timedelta(hours=1)}
_ZERO_WHEN_EMPTY: Final = frozenset({Aggregate.COUNT, Aggregate.COUNT_DISTINCT, Aggregate.SUM})


def empty_value(aggregate: Aggregate) -> int | None:
    """The measure over no rows: 0 for count, count_distinct and sum; None otherwise."""
    return 0 if aggregate in _ZERO_WHEN_EMPTY else None


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """``moment`` as naive wall-clock time in ``zone`` (a naive one is that already)."""
    return moment if moment.tzinfo is None else moment.astimezone(zone).replace(tzinfo=None)


def _floor(moment: datetime, by: Dimension) -> datetime:
    floored = moment.replace(minute=0, second=0, microsecond=0)
    return floored.replace(hour=0) if by is Dimension.DAY else floored


def buckets(time_range: TimeRange, by: Dimension) -> Iterator[datetime]:
    """Start of every day or hour that meets ``[start, end)``, in time order, as naive
    wall-clock times in the range's zone (a day is a calendar day there, DST or not)."""
    zone = time_range.zone
    bucket, end = _floor(_local(time_range.start, zone), by), _local(time_range.end, zone)
    while bucket < end:
        yield bucket
        bucket += STEPS[by]


def bucket_label(bucket: datetime, by: Dimension, timezone: str = "UTC") -> str:
    """``2025-11-28`` for a day; an hour ``2025-11-28T10:00Z`` in UTC, or local wall-clock
    ``2025-11-28T10:00`` in another zone."""
    if by is Dimension.DAY:
        return bucket.date().isoformat()
    return bucket.strftime("%Y-%m-%dT%H:00") + ("Z" if timezone == "UTC" else "")


def series(
    found: Mapping[datetime, int | float | None],
    *,
    time_range: TimeRange,
    by: Dimension,
    empty: int | None,
) -> tuple[GroupRow, ...]:
    """One row per bucket of ``time_range``: the value ``found`` for the bucket (keys are
    bucket starts as wall-clock time in the range's zone, naive, or aware instants), else
    ``empty``."""
    zone = time_range.zone
    values = {_local(bucket, zone): value for bucket, value in found.items()}
    return tuple(
        GroupRow(
            label=bucket_label(bucket, by, time_range.timezone), value=values.get(bucket, empty)
        )
        for bucket in buckets(time_range, by)
    )


def group_rows(plan: QueryPlan, records: Sequence[Sequence[object]]) -> tuple[GroupRow, ...]:
    """``(label, value)`` records of ``plan``'s grouped SQL as answer rows: entities in the
    query's order (labels as text), a series with every bucket filled in.

    Raises ValueError for a plan without grouping; NotANumberError for a value that is not a
    number.
    """
    if plan.group_by is None:
        raise ValueError("the plan is not grouped")
    by = plan.group_by.by
    if not by.is_time:
        return tuple(GroupRow(label=str(key), value=as_number(value)) for key, value in records)
    assert plan.time_range is not None, "the plan validator requires a range for a series"
    found = {_bucket_start(key): as_number(value) for key, value in records}
    empty = empty_value(plan.measure.aggregate)
    return series(found, time_range=plan.time_range, by=by, empty=empty)


def _bucket_start(key: object) -> datetime:
    if not isinstance(key, datetime):
        raise TypeError(f"a series bucket must be a datetime, not {type(key).__name__}")
    return key
