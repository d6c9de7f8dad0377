"""Grouped results as answer rows: entities as returned, series with every UTC bucket."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from tally.executor.domain.series import buckets, group_rows, series
from tally.semantic.plan import (
    Aggregate,
    Dataset,
    Dimension,
    Grouping,
    Measure,
    QueryPlan,
    TimeRange,
)
from tally.semantic.results import NotANumberError

START = datetime(2025, 11, 26, tzinfo=UTC)


def _range(start: datetime, end: datetime) -> TimeRange:
    return TimeRange(column="created_at", start=start, end=end)


def _series_plan(aggregate: Aggregate, by: Dimension, time_range: TimeRange) -> QueryPlan:
    column = None if aggregate is Aggregate.COUNT else "delta_views_count"
    return QueryPlan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=aggregate, column=column),
        time_range=time_range,
        group_by=Grouping(by=by),
        interpretation="series",
    )


def test_entities_keep_the_query_order_with_text_labels_and_numbers() -> None:
    """A top-N keeps the database's rank order; UUIDs become text, Decimals numbers."""
    video = UUID("00000000-0000-0000-0000-000000000001")
    plan = QueryPlan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.AVG, column="views_count"),
        group_by=Grouping(by=Dimension.VIDEO),
        interpretation="top",
    )
    rows = group_rows(plan, [(video, Decimal("12.50")), ("b", Decimal("3")), ("c", None)])
    assert [(row.label, row.value) for row in rows] == [(str(video), 12.5), ("b", 3), ("c", None)]


def test_a_day_series_fills_missing_days_with_zero_for_sums() -> None:
    """Days without rows are 0 for a sum; rows come back in time order with ISO day labels."""
    plan = _series_plan(Aggregate.SUM, Dimension.DAY, _range(START, START + timedelta(days=4)))
    found = [(datetime(2025, 11, 28), Decimal(7)), (datetime(2025, 11, 26), 5)]
    rows = group_rows(plan, found)
    assert [(row.label, row.value) for row in rows] == [
        ("2025-11-26", 5),
        ("2025-11-27", 0),
        ("2025-11-28", 7),
        ("2025-11-29", 0),
    ]


def test_an_hour_series_fills_missing_hours_with_none_for_averages() -> None:
    """Hours without rows have no average; labels are UTC hours."""
    plan = _series_plan(Aggregate.AVG, Dimension.HOUR, _range(START, START + timedelta(hours=3)))
    rows = group_rows(plan, [(datetime(2025, 11, 26, 1), Decimal("2.5"))])
    assert [(row.label, row.value) for row in rows] == [
        ("2025-11-26T00:00Z", None),
        ("2025-11-26T01:00Z", 2.5),
        ("2025-11-26T02:00Z", None),
    ]


def test_buckets_cover_an_unaligned_range_in_utc() -> None:
    """A range from 10:30 to 12:15 meets the hours 10, 11 and 12; a range given in UTC+3
    is bucketed by UTC days (its zone is UTC), as naive wall-clock starts."""
    hours = _range(START.replace(hour=10, minute=30), START.replace(hour=12, minute=15))
    assert [b.hour for b in buckets(hours, Dimension.HOUR)] == [10, 11, 12]
    moscow = timezone(timedelta(hours=3))
    days = _range(datetime(2025, 11, 26, 2, tzinfo=moscow), datetime(2025, 11, 27, tzinfo=moscow))
    assert [b.isoformat() for b in buckets(days, Dimension.DAY)] == [
        "2025-11-25T00:00:00",
        "2025-11-26T00:00:00",
    ]


def test_days_of_a_chat_zone_across_dst() -> None:
    """A Berlin range over the end of summer time (26 Oct 2025, a 25-hour day) has one
    bucket per Berlin calendar day, labelled by its local date; values found for local
    midnights land on their day."""
    berlin = ZoneInfo("Europe/Berlin")
    time_range = TimeRange(
        column="sent_at",
        start=datetime(2025, 10, 25, tzinfo=berlin),
        end=datetime(2025, 10, 28, tzinfo=berlin),
        timezone="Europe/Berlin",
    )
    found = {datetime(2025, 10, 26): 25, datetime(2025, 10, 27): 24}
    rows = series(found, time_range=time_range, by=Dimension.DAY, empty=0)
    assert [(row.label, row.value) for row in rows] == [
        ("2025-10-25", 0),
        ("2025-10-26", 25),
        ("2025-10-27", 24),
    ]


def test_a_year_of_days_and_a_week_of_hours() -> None:
    """The longest series the plan allows: 366 days, 168 hours, counts filled with 0."""
    year = _series_plan(Aggregate.COUNT, Dimension.DAY, _range(START, START + timedelta(366)))
    week = _series_plan(Aggregate.COUNT, Dimension.HOUR, _range(START, START + timedelta(7)))
    assert [len(group_rows(year, [])), len(group_rows(week, []))] == [366, 168]
    assert {row.value for row in group_rows(year, [])} == {0}


def test_a_value_that_is_not_a_number_is_refused() -> None:
    """Text where the measure should be is a NotANumberError, not a row."""
    plan = _series_plan(Aggregate.SUM, Dimension.DAY, _range(START, START + timedelta(days=1)))
    with pytest.raises(NotANumberError):
        group_rows(plan, [(START, "many")])
