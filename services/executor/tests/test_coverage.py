"""Growth over hours no snapshot measured is refused, not answered 0."""

from datetime import UTC, datetime

from tally.executor.domain.coverage import SnapshotSpan, cover, measures_growth, not_measured
from tally.semantic.plan import Measure, QueryPlan, TimeRange

SPAN = SnapshotSpan(datetime(2025, 11, 26, 8, tzinfo=UTC), datetime(2025, 12, 1, 23, tzinfo=UTC))


def _growth(first_day: int, last_day: int, month: int = 11) -> QueryPlan:
    start = datetime(2025, month, first_day, tzinfo=UTC)
    end = datetime(2025, month, last_day, tzinfo=UTC)
    return QueryPlan(
        dataset="video_snapshots",
        measure=Measure(aggregate="sum", column="delta_views_count"),
        time_range=TimeRange(column="created_at", start=start, end=end),
        interpretation="",
    )


def test_a_day_before_the_first_snapshot_is_not_measured() -> None:
    """20 Nov lies wholly before the first snapshot: no growth was measured."""
    assert cover(_growth(20, 21), SPAN) == "none"


def test_a_day_inside_the_snapshots_is_covered() -> None:
    """28 Nov lies wholly inside the snapshots."""
    assert cover(_growth(28, 29), SPAN) == "full"


def test_a_month_reaching_before_the_snapshots_is_partial() -> None:
    """All of November: only its last days were measured."""
    assert cover(_growth(1, 30), SPAN) == "partial"


def test_counting_snapshots_is_not_growth() -> None:
    """How many snapshots were taken on a day is a count of rows: 0 is a true answer."""
    plan = _growth(20, 21).model_copy(update={"measure": Measure(aggregate="count")})
    assert not measures_growth(plan)


def test_the_refusal_names_the_span() -> None:
    """The reason says which hours the snapshots cover, in the asker's language."""
    assert "2025-11-26 08:00" in not_measured(SPAN, "en")
    assert "замеры" in not_measured(SPAN, "ru")
