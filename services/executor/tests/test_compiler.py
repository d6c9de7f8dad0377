"""Plan compilation: shapes of SQL, and no value ever inside the SQL text."""

from datetime import UTC, datetime

from tally.common.plan import Aggregate, Dataset, Filter, Measure, Op, QueryPlan, TimeRange
from tally.executor.domain.compiler import compile_plan


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
