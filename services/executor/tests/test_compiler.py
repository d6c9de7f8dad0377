"""Plan compilation: shapes of SQL, and no value ever inside the SQL text."""

from datetime import UTC, datetime

from tally.semantic.compiler import compile_plan, datasets_read
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


def _plan(**kwargs: object) -> QueryPlan:
    return QueryPlan.model_validate({"interpretation": "test", **kwargs})


def test_values_are_bound_parameters_not_sql_text() -> None:
    """A creator id that looks like an injection stays a parameter."""
    evil = "x'; DROP TABLE videos; --"
    plan = _plan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.COUNT),
        filters=[Filter(column="creator_id", op=Op.EQ, value=evil)],
    )
    compiled = compile_plan(plan)
    assert evil not in compiled.sql
    assert evil in compiled.params.values()


def test_snapshot_plan_by_creator_joins_videos() -> None:
    """Creator filters on snapshots go through the snapshot -> video join."""
    plan = _plan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        filters=[Filter(column="creator_id", op=Op.EQ, value="abc")],
    )
    assert "JOIN videos" in compile_plan(plan).sql


def test_snapshot_plan_without_video_columns_does_not_join() -> None:
    """Growth over a day reads video_snapshots alone."""
    plan = _plan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        time_range=TimeRange(
            column="created_at",
            start=datetime(2025, 11, 27, tzinfo=UTC),
            end=datetime(2025, 11, 28, tzinfo=UTC),
        ),
    )
    compiled = compile_plan(plan)
    assert "JOIN" not in compiled.sql
    assert compiled.params["created_at_1"] == "2025-11-27T00:00:00+00:00"


MARCH = TimeRange(
    column="created_at",
    start=datetime(2024, 3, 10, tzinfo=UTC),
    end=datetime(2024, 3, 14, tzinfo=UTC),
)


def test_top_videos_rank_by_the_measure_then_by_id_with_a_bound_limit() -> None:
    """Top-N videos: one row per videos.id, ranked by the measure (NULLs last), ties by id,
    the limit a parameter."""
    plan = _plan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.SUM, column="views_count"),
        group_by=Grouping(by=Dimension.VIDEO, limit=7),
    )
    compiled = compile_plan(plan)
    assert compiled.sql.startswith("SELECT videos.id AS label, coalesce(sum(videos.views_count)")
    assert "GROUP BY videos.id ORDER BY value DESC NULLS LAST, label ASC" in compiled.sql
    assert compiled.sql.rstrip().endswith("LIMIT $2::INTEGER")
    assert compiled.params["limit"] == 7
    assert compiled.args[-1] == 7


def test_ascending_top_creators_on_snapshots_join_videos() -> None:
    """Creators on snapshots are grouped through the snapshot -> video join, which makes the
    plan read videos too; ``asc`` keeps NULLs last."""
    plan = _plan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.AVG, column="delta_views_count"),
        group_by=Grouping(by=Dimension.CREATOR, order="asc"),
    )
    compiled = compile_plan(plan)
    assert "FROM video_snapshots JOIN videos ON video_snapshots.video_id = videos.id" in (
        compiled.sql
    )
    assert "GROUP BY videos.creator_id ORDER BY value ASC NULLS LAST, label ASC" in compiled.sql
    assert datasets_read(plan) == {Dataset.SNAPSHOTS, Dataset.VIDEOS}


def test_videos_on_snapshots_group_by_video_id_without_a_join() -> None:
    """Videos on snapshots are their video_id: no join, only snapshots read."""
    plan = _plan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        group_by=Grouping(by=Dimension.VIDEO),
    )
    compiled = compile_plan(plan)
    assert "GROUP BY video_snapshots.video_id" in compiled.sql
    assert "JOIN" not in compiled.sql
    assert datasets_read(plan) == {Dataset.SNAPSHOTS}


def test_a_day_series_buckets_the_range_column_in_utc_with_bound_unit_and_zone() -> None:
    """Series: date_trunc of the range column AT TIME ZONE, unit and zone bound, in time order,
    no LIMIT."""
    plan = _plan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        time_range=MARCH,
        group_by=Grouping(by=Dimension.DAY),
    )
    compiled = compile_plan(plan)
    bucket = "date_trunc($1::VARCHAR, video_snapshots.created_at AT TIME ZONE $2::VARCHAR)"
    assert compiled.sql.startswith(f"SELECT {bucket} AS label")
    assert f"GROUP BY {bucket} ORDER BY label" in compiled.sql
    assert "LIMIT" not in compiled.sql
    assert "'day'" not in compiled.sql and "'UTC'" not in compiled.sql
    assert compiled.args[:2] == ("day", "UTC")
    assert (compiled.params["bucket"], compiled.params["time_zone"]) == ("day", "UTC")


def test_an_hour_series_on_publication_time_joins_videos() -> None:
    """A series on snapshots by the video's publication time buckets videos.video_created_at."""
    plan = _plan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.COUNT),
        time_range=MARCH.model_copy(
            update={"column": "video_created_at", "end": datetime(2024, 3, 11, tzinfo=UTC)}
        ),
        group_by=Grouping(by=Dimension.HOUR),
    )
    compiled = compile_plan(plan)
    assert "date_trunc($1::VARCHAR, videos.video_created_at AT TIME ZONE $2::VARCHAR)" in (
        compiled.sql
    )
    assert "JOIN videos" in compiled.sql
    assert compiled.params["bucket"] == "hour"
