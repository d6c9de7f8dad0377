"""Grouped plans on real PostgreSQL: top-N and series rows equal hand-written SQL's.

The rows live in March 2024 (no other test writes there), under creators of this run.
"""

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from tally.contracts.events import GroupRow, QueryPlanned, QuestionAnswered, QuestionAsked
from tally.executor.answering import answer
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.semantic.plan import (
    Aggregate,
    Dataset,
    Dimension,
    Filter,
    Grouping,
    Measure,
    Op,
    QueryPlan,
    TimeRange,
)

RUN = uuid4().hex[:8]
A, B, C = (f"grp-{name}-{RUN}" for name in "abc")
MARCH = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))
SERIES_DAYS = (datetime(2024, 3, 10, tzinfo=UTC), datetime(2024, 3, 14, tzinfo=UTC))
VIDEO_VIEWS = {"a1": (A, 500), "a2": (A, 300), "a3": (A, 300), "b1": (B, 1000), "b2": (B, 50)}
VIDEO_VIEWS["c1"] = (C, 200)
SNAPSHOTS = [
    ("a1", datetime(2024, 3, 10, 1, 0), 10),
    ("a1", datetime(2024, 3, 10, 1, 30), 20),
    ("a1", datetime(2024, 3, 10, 23, 30), 5),
    ("a1", datetime(2024, 3, 11, 0, 10), 7),
    ("a1", datetime(2024, 3, 13, 12, 0), 100),
    ("a2", datetime(2024, 3, 11, 5, 0), 3),
    ("b1", datetime(2024, 3, 10, 2, 0), 50),
    ("b1", datetime(2024, 3, 12, 10, 0), 1000),
]
"""(video, UTC time, delta views): creator A gains nothing on 12 March, when B does."""


@pytest.fixture(scope="module")
async def videos(settings: CommonSettings) -> AsyncIterator[dict[str, UUID]]:
    """The videos of VIDEO_VIEWS (published 5 March 2024) and SNAPSHOTS; removed afterwards."""
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    ids = {name: uuid4() for name in VIDEO_VIEWS}
    published = datetime(2024, 3, 5, tzinfo=UTC)
    for name, (creator, views) in VIDEO_VIEWS.items():
        await connection.execute(
            "INSERT INTO videos VALUES ($1, $2, $3, $4, 0, 0, 0, $3, $3)",
            ids[name],
            creator,
            published,
            views,
        )
    for name, at, delta in SNAPSHOTS:
        await connection.execute(
            "INSERT INTO video_snapshots VALUES ($1, $2, 0, 0, 0, 0, $3, 0, 0, 0, $4, $4)",
            uuid4().hex,
            ids[name],
            delta,
            at.replace(tzinfo=UTC),
        )
    yield ids
    await connection.execute(
        "DELETE FROM video_snapshots WHERE video_id = ANY($1::uuid[])", list(ids.values())
    )
    await connection.execute("DELETE FROM videos WHERE id = ANY($1::uuid[])", list(ids.values()))
    await connection.close()


@pytest.fixture
async def database(settings: CommonSettings) -> AsyncIterator[asyncpg.Connection]:
    """A connection for the reference SQL."""
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    yield connection
    await connection.close()


async def _answer(settings: CommonSettings, plan: QueryPlan) -> QuestionAnswered:
    reader = Reader(ExecutorSettings(**settings.model_dump()))
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q")
    try:
        return await answer(QueryPlanned(question=question, plan=plan, planned_ms=0.1), reader)
    finally:
        await reader.close()


def _pairs(rows: Sequence[Any]) -> list[tuple[str, float | None]]:
    """Rows or records as (label, value as float) to compare answers with reference SQL."""
    pairs = [(row.label, row.value) if isinstance(row, GroupRow) else tuple(row) for row in rows]
    return [(str(label), None if value is None else float(value)) for label, value in pairs]


def _plan(dataset: Dataset, measure: Measure, grouping: Grouping, **fields: Any) -> QueryPlan:
    return QueryPlan(
        dataset=dataset, measure=measure, group_by=grouping, interpretation="grouped", **fields
    )


def _published_in_march() -> TimeRange:
    return TimeRange(column="video_created_at", start=MARCH[0], end=MARCH[1])


async def test_top_videos_by_views(
    settings: CommonSettings, videos: dict[str, UUID], database: asyncpg.Connection
) -> None:
    """The 3 most viewed videos of March 2024; of two tied at 300 views the smaller id wins."""
    plan = _plan(
        Dataset.VIDEOS,
        Measure(aggregate=Aggregate.SUM, column="views_count"),
        Grouping(by=Dimension.VIDEO, limit=3),
        time_range=_published_in_march(),
    )
    result = await _answer(settings, plan)
    expected = await database.fetch(
        "SELECT id::text, views_count FROM videos"
        " WHERE video_created_at >= $1 AND video_created_at < $2"
        " ORDER BY views_count DESC, id LIMIT 3",
        *MARCH,
    )
    assert (result.outcome, result.value, result.row_count) == ("answered", None, 3)
    assert _pairs(result.rows) == _pairs(expected)
    tied = sorted(str(videos[name]) for name in ("a2", "a3"))[0]
    assert [row.label for row in result.rows] == [str(videos["b1"]), str(videos["a1"]), tied]


async def test_top_creators_by_summed_views(
    settings: CommonSettings, videos: dict[str, UUID], database: asyncpg.Connection
) -> None:
    """Creators ranked by the views of their March 2024 videos."""
    plan = _plan(
        Dataset.VIDEOS,
        Measure(aggregate=Aggregate.SUM, column="views_count"),
        Grouping(by=Dimension.CREATOR),
        time_range=_published_in_march(),
    )
    result = await _answer(settings, plan)
    expected = await database.fetch(
        "SELECT creator_id, sum(views_count) AS views FROM videos"
        " WHERE video_created_at >= $1 AND video_created_at < $2"
        " GROUP BY creator_id ORDER BY views DESC, creator_id LIMIT 10",
        *MARCH,
    )
    assert _pairs(result.rows) == _pairs(expected)
    assert _pairs(result.rows) == [(A, 1100.0), (B, 1050.0), (C, 200.0)]


async def test_top_creators_by_video_count(
    settings: CommonSettings, videos: dict[str, UUID], database: asyncpg.Connection
) -> None:
    """Creators ranked by how many videos they published in March 2024, fewest first."""
    plan = _plan(
        Dataset.VIDEOS,
        Measure(aggregate=Aggregate.COUNT),
        Grouping(by=Dimension.CREATOR, order="asc", limit=2),
        time_range=_published_in_march(),
    )
    result = await _answer(settings, plan)
    expected = await database.fetch(
        "SELECT creator_id, count(*) AS n FROM videos"
        " WHERE video_created_at >= $1 AND video_created_at < $2"
        " GROUP BY creator_id ORDER BY n, creator_id LIMIT 2",
        *MARCH,
    )
    assert _pairs(result.rows) == _pairs(expected)
    assert _pairs(result.rows) == [(C, 1.0), (B, 2.0)]


async def test_top_creators_by_views_gained_join_snapshots_to_videos(
    settings: CommonSettings, videos: dict[str, UUID], database: asyncpg.Connection
) -> None:
    """Snapshot growth 10-13 March 2024 summed per creator, through the video join."""
    plan = _plan(
        Dataset.SNAPSHOTS,
        Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        Grouping(by=Dimension.CREATOR),
        time_range=TimeRange(column="created_at", start=SERIES_DAYS[0], end=SERIES_DAYS[1]),
    )
    result = await _answer(settings, plan)
    expected = await database.fetch(
        "SELECT v.creator_id, sum(s.delta_views_count) AS gained"
        " FROM video_snapshots s JOIN videos v ON v.id = s.video_id"
        " WHERE s.created_at >= $1 AND s.created_at < $2"
        " GROUP BY v.creator_id ORDER BY gained DESC, v.creator_id LIMIT 10",
        *SERIES_DAYS,
    )
    assert _pairs(result.rows) == _pairs(expected)
    assert _pairs(result.rows) == [(B, 1050.0), (A, 145.0)]


async def test_a_day_series_of_views_gained_has_the_empty_day_as_zero(
    settings: CommonSettings, videos: dict[str, UUID], database: asyncpg.Connection
) -> None:
    """Creator A's growth per UTC day, 10-13 March 2024: every day present, 12 March 0."""
    plan = _plan(
        Dataset.SNAPSHOTS,
        Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        Grouping(by=Dimension.DAY),
        filters=(Filter(column="creator_id", op=Op.EQ, value=A),),
        time_range=TimeRange(column="created_at", start=SERIES_DAYS[0], end=SERIES_DAYS[1]),
    )
    result = await _answer(settings, plan)
    expected = await database.fetch(
        "SELECT to_char(d, 'YYYY-MM-DD'), coalesce(sum(s.delta_views_count), 0)"
        " FROM generate_series($1::timestamp, $2::timestamp - interval '1 day',"
        " interval '1 day') AS d"
        " LEFT JOIN (video_snapshots s JOIN videos v ON v.id = s.video_id AND v.creator_id = $3)"
        " ON s.created_at >= d AT TIME ZONE 'UTC'"
        " AND s.created_at < (d + interval '1 day') AT TIME ZONE 'UTC'"
        " GROUP BY d ORDER BY d",
        *(bound.replace(tzinfo=None) for bound in SERIES_DAYS),
        A,
    )
    assert _pairs(result.rows) == _pairs(expected)
    assert _pairs(result.rows) == [
        ("2024-03-10", 35.0),
        ("2024-03-11", 10.0),
        ("2024-03-12", 0.0),
        ("2024-03-13", 100.0),
    ]
    assert result.row_count == 4


async def test_an_hour_series_of_average_growth_has_empty_hours_without_value(
    settings: CommonSettings, videos: dict[str, UUID], database: asyncpg.Connection
) -> None:
    """Video a1's average growth per UTC hour on 10 March 2024: 24 hours, None where empty."""
    day = (SERIES_DAYS[0], SERIES_DAYS[0] + timedelta(days=1))
    plan = _plan(
        Dataset.SNAPSHOTS,
        Measure(aggregate=Aggregate.AVG, column="delta_views_count"),
        Grouping(by=Dimension.HOUR),
        filters=(Filter(column="video_id", op=Op.EQ, value=str(videos["a1"])),),
        time_range=TimeRange(column="created_at", start=day[0], end=day[1]),
    )
    result = await _answer(settings, plan)
    expected = await database.fetch(
        'SELECT to_char(h, \'YYYY-MM-DD"T"HH24:00"Z"\'), avg(s.delta_views_count)'
        " FROM generate_series($1::timestamp, $2::timestamp - interval '1 hour',"
        " interval '1 hour') AS h"
        " LEFT JOIN video_snapshots s ON s.video_id = $3"
        " AND s.created_at >= h AT TIME ZONE 'UTC'"
        " AND s.created_at < (h + interval '1 hour') AT TIME ZONE 'UTC'"
        " GROUP BY h ORDER BY h",
        *(bound.replace(tzinfo=None) for bound in day),
        videos["a1"],
    )
    assert _pairs(result.rows) == _pairs(expected)
    filled = {row.label: row.value for row in result.rows if row.value is not None}
    assert (len(result.rows), filled) == (24, {"2024-03-10T01:00Z": 15, "2024-03-10T23:00Z": 5})
