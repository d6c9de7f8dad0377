"""Answer cache keys (the normalised plan) and the datasets a plan reads."""

from datetime import UTC, datetime, timedelta, timezone

from tally.contracts.cache import answer_key
from tally.semantic.compiler import datasets_read
from tally.semantic.plan import Aggregate, Dataset, Filter, Measure, Op, QueryPlan, TimeRange

NOVEMBER = TimeRange(
    column="video_created_at",
    start=datetime(2025, 11, 1, tzinfo=UTC),
    end=datetime(2025, 12, 1, tzinfo=UTC),
)
BY_CREATOR = Filter(column="creator_id", op=Op.EQ, value="abc")
POPULAR = Filter(column="views_count", op=Op.GT, value=100_000)


def videos_plan(**changes: object) -> QueryPlan:
    fields: dict[str, object] = {
        "dataset": Dataset.VIDEOS,
        "measure": Measure(aggregate=Aggregate.COUNT),
        "filters": (BY_CREATOR, POPULAR),
        "time_range": NOVEMBER,
        "interpretation": "popular videos of abc published in November 2025",
    }
    return QueryPlan.model_validate(fields | changes)


def test_the_interpretation_does_not_change_the_key() -> None:
    """The same plan worded in another language has the same key."""
    russian = videos_plan(interpretation="популярные видео abc за ноябрь 2025")
    assert answer_key(russian) == answer_key(videos_plan())


def test_filter_order_and_time_zone_do_not_change_the_key() -> None:
    """Filters in another order and the same instants in another zone name the same answer."""
    moscow = timezone(timedelta(hours=3))
    shifted = NOVEMBER.model_copy(
        update={"start": NOVEMBER.start.astimezone(moscow), "end": NOVEMBER.end.astimezone(moscow)}
    )
    same = videos_plan(filters=(POPULAR, BY_CREATOR), time_range=shifted)
    assert answer_key(same) == answer_key(videos_plan())


def test_what_changes_the_answer_changes_the_key() -> None:
    """Another filter value, operator, measure or range gives another key."""
    variants = [
        videos_plan(filters=(BY_CREATOR, POPULAR.model_copy(update={"value": 100_001}))),
        videos_plan(filters=(BY_CREATOR, POPULAR.model_copy(update={"op": Op.GE}))),
        videos_plan(filters=(BY_CREATOR,)),
        videos_plan(measure=Measure(aggregate=Aggregate.SUM, column="views_count")),
        videos_plan(time_range=None),
    ]
    keys = {answer_key(plan) for plan in [videos_plan(), *variants]}
    assert len(keys) == len(variants) + 1


def test_the_datasets_a_plan_reads() -> None:
    """A snapshot plan reads videos too when it filters on the video's creator or date."""
    growth = QueryPlan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        interpretation="growth",
    )
    of_creator = growth.model_copy(update={"filters": (BY_CREATOR,)})
    published = growth.model_copy(update={"time_range": NOVEMBER})
    assert datasets_read(videos_plan()) == {Dataset.VIDEOS}
    assert datasets_read(growth) == {Dataset.SNAPSHOTS}
    assert datasets_read(of_creator) == {Dataset.SNAPSHOTS, Dataset.VIDEOS}
    assert datasets_read(published) == {Dataset.SNAPSHOTS, Dataset.VIDEOS}
