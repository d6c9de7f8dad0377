"""Rows of a grouped plan's result, as the answer's ``GroupRow``s.

Entities keep the query's rank order. A series has every UTC bucket of the plan's time range,
in time order: the query returns only the buckets that have rows, the others are filled in
with the measure of no rows (0 for counts and sums, None for averages, minima and maxima, as
the compiler's SQL gives for an ungrouped plan over no rows).
"""

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from tally.common.events import GroupRow
from tally.common.plan import Aggregate, Dimension, QueryPlan, TimeRange
from tally.executor.domain.results import as_number

STEPS: Final = {Dimension.DAY: timedelta(days=1), Dimension.HOUR: timedelta(hours=1)}
_ZERO_WHEN_EMPTY: Final = frozenset({Aggregate.COUNT, Aggregate.COUNT_DISTINCT, Aggregate.SUM})


def empty_value(aggregate: Aggregate) -> int | None:
    """The measure over no rows: 0 for count, count_distinct and sum; None otherwise."""
    return 0 if aggregate in _ZERO_WHEN_EMPTY else None


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _floor(moment: datetime, by: Dimension) -> datetime:
    floored = _utc(moment).replace(minute=0, second=0, microsecond=0)
    return floored.replace(hour=0) if by is Dimension.DAY else floored


def buckets(time_range: TimeRange, by: Dimension) -> Iterator[datetime]:
    """Start (aware, UTC) of every day or hour that meets ``[start, end)``, in time order."""
    bucket, end = _floor(time_range.start, by), _utc(time_range.end)
    while bucket < end:
        yield bucket
        bucket += STEPS[by]


def bucket_label(bucket: datetime, by: Dimension) -> str:
    """``2025-11-28`` for a day, ``2025-11-28T10:00Z`` for an hour (UTC)."""
    moment = _utc(bucket)
    return moment.date().isoformat() if by is Dimension.DAY else moment.strftime("%Y-%m-%dT%H:00Z")


def series(
    found: Mapping[datetime, int | float | None],
    *,
    time_range: TimeRange,
    by: Dimension,
    empty: int | None,
) -> tuple[GroupRow, ...]:
    """One row per bucket of ``time_range``: the value ``found`` for the bucket (keys are UTC
    bucket starts, aware or naive), else ``empty``."""
    values = {_utc(bucket): value for bucket, value in found.items()}
    return tuple(
        GroupRow(label=bucket_label(bucket, by), value=values.get(bucket, empty))
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
