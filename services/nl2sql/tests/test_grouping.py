"""The parser on rankings, series, hour windows, one video's counters, and ask-back readings."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tally.contracts.events import Language
from tally.language import Readings, Refusal, parse
from tally.semantic.plan import Aggregate, Dataset, Dimension, Grouping, QueryPlan

TODAY = date(2025, 12, 1)
VIDEO = "0f8c3b2a-1d2e-4f5a-9b8c-7d6e5f4a3b2c"


def plan_of(text: str, language: Language = "en") -> QueryPlan:
    result = parse(text, language=language, today=TODAY)
    assert isinstance(result, QueryPlan), result
    return result


def readings_of(text: str, language: Language = "en") -> Readings:
    result = parse(text, language=language, today=TODAY)
    assert isinstance(result, Readings), result
    return result


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2025, 11, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "language", "by", "limit", "order", "column"),
    [
        ("Top 5 videos by views", "en", Dimension.VIDEO, 5, "desc", "views_count"),
        ("топ-5 видео по просмотрам", "ru", Dimension.VIDEO, 5, "desc", "views_count"),
        ("Show me the top 3 creators by likes", "en", Dimension.CREATOR, 3, "desc", "likes_count"),
        (
            "Покажи топ 10 креаторов по комментариям",
            "ru",
            Dimension.CREATOR,
            10,
            "desc",
            "comments_count",
        ),
        ("the 3 most viewed videos", "en", Dimension.VIDEO, 3, "desc", "views_count"),
        ("the least liked video", "en", Dimension.VIDEO, 1, "asc", "likes_count"),
        ("Which video has the most views?", "en", Dimension.VIDEO, 1, "desc", "views_count"),
        (
            "Какие видео набрали больше всего лайков?",
            "ru",
            Dimension.VIDEO,
            10,
            "desc",
            "likes_count",
        ),
        ("bottom 5 creators by views", "en", Dimension.CREATOR, 5, "asc", "views_count"),
    ],
)
def test_rankings_of_final_counters(
    text: str, language: Language, by: Dimension, limit: int, order: str, column: str
) -> None:
    """A ranking by a counter sums the final counter per video or creator, cut to N."""
    plan = plan_of(text, language)
    assert plan.group_by == Grouping(by=by, limit=limit, order=order)  # type: ignore[arg-type]
    assert (plan.dataset, plan.measure.aggregate, plan.measure.column) == (
        Dataset.VIDEOS,
        Aggregate.SUM,
        column,
    )


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Which creator published the most videos?", "en"),
        ("Какой креатор опубликовал больше всего видео?", "ru"),
        ("top 1 creator by number of videos", "en"),
    ],
)
def test_creators_ranked_by_their_videos(text: str, language: Language) -> None:
    """ "The most videos" ranks creators by a count of videos."""
    plan = plan_of(text, language)
    assert plan.group_by is not None and plan.group_by.by is Dimension.CREATOR
    assert plan.measure.aggregate is Aggregate.COUNT and plan.dataset is Dataset.VIDEOS


def test_ranking_by_growth_on_a_day() -> None:
    """Videos that "got the most views" on a day are ranked by that day's deltas."""
    plan = plan_of("какие 5 видео набрали больше всего просмотров 28 ноября 2025", "ru")
    assert plan.dataset is Dataset.SNAPSHOTS and plan.measure.column == "delta_views_count"
    assert plan.time_range is not None and plan.time_range.column == "created_at"
    assert (plan.time_range.start, plan.time_range.end) == (at(28), at(29))
    assert plan.interpretation == "топ-5 видео по приросту просмотров за 28 ноября 2025 (UTC)"


@pytest.mark.parametrize(
    ("text", "language", "by", "column", "time_column"),
    [
        (
            "views gained per day in November 2025",
            "en",
            Dimension.DAY,
            "delta_views_count",
            "created_at",
        ),
        (
            "прирост просмотров по дням за ноябрь 2025",
            "ru",
            Dimension.DAY,
            "delta_views_count",
            "created_at",
        ),
        (
            "hourly view growth on November 28, 2025",
            "en",
            Dimension.HOUR,
            "delta_views_count",
            "created_at",
        ),
        (
            "прирост лайков по часам 28 ноября 2025",
            "ru",
            Dimension.HOUR,
            "delta_likes_count",
            "created_at",
        ),
        (
            "How many videos were published each day in November 2025?",
            "en",
            Dimension.DAY,
            None,
            "video_created_at",
        ),
        (
            "сколько видео опубликовано по дням в ноябре 2025",
            "ru",
            Dimension.DAY,
            None,
            "video_created_at",
        ),
    ],
)
def test_series(
    text: str, language: Language, by: Dimension, column: str | None, time_column: str
) -> None:
    """A series groups by the day or hour of the question's time column."""
    plan = plan_of(text, language)
    assert plan.group_by is not None and plan.group_by.by is by
    assert plan.measure.column == column
    assert plan.time_range is not None and plan.time_range.column == time_column


@pytest.mark.parametrize(
    ("text", "language", "start", "end"),
    [
        ("How much did views grow on November 28, 2025 from 10:00 to 15:00?", "en", 10, 15),
        ("На сколько выросли просмотры 28 ноября 2025 с 10:00 до 15:00?", "ru", 10, 15),
        ("view growth on 28.11.2025 between 9 and 12 hours", "en", 9, 12),
        ("прирост просмотров 2025-11-28 08:00-24:00", "ru", 8, 24),
    ],
)
def test_hour_windows(text: str, language: Language, start: int, end: int) -> None:
    """An hour window narrows its day to ``[start, end)`` UTC."""
    plan = plan_of(text, language)
    assert plan.time_range is not None
    assert plan.time_range.start == at(28, start)
    assert plan.time_range.end == at(28) + timedelta(hours=end)


@pytest.mark.parametrize(
    "text",
    [
        "view growth from 10:00 to 15:00",
        "view growth November 1-5, 2025 from 10:00 to 15:00",
        "view growth on November 28, 2025 from 15:00 to 10:00",
        "view growth on November 28, 2025 from 10:00 to 25:00",
    ],
)
def test_hour_windows_need_one_day_in_order(text: str) -> None:
    """An hour window needs exactly one day and must end after it starts."""
    assert isinstance(parse(text, language="en", today=TODAY), Refusal)


@pytest.mark.parametrize(
    ("text", "language", "dataset", "column", "id_column"),
    [
        (f"How many views does video {VIDEO} have?", "en", Dataset.VIDEOS, "views_count", "id"),
        (f"Сколько лайков у видео {VIDEO}?", "ru", Dataset.VIDEOS, "likes_count", "id"),
        (
            f"how many views did video {VIDEO} gain on November 28, 2025",
            "en",
            Dataset.SNAPSHOTS,
            "delta_views_count",
            "video_id",
        ),
    ],
)
def test_one_video(
    text: str, language: Language, dataset: Dataset, column: str, id_column: str
) -> None:
    """A video's UUID filters on ``videos.id`` or ``video_snapshots.video_id``."""
    plan = plan_of(text, language)
    assert (plan.dataset, plan.measure.column) == (dataset, column)
    assert [(f.column, f.value) for f in plan.filters] == [(id_column, VIDEO)]


def test_one_video_interpretation() -> None:
    """A video's counter reads as such, not as a total over videos."""
    assert plan_of(f"How many views does video {VIDEO} have?").interpretation == (
        f"views of video {VIDEO}"
    )


@pytest.mark.parametrize(
    ("text", "language", "interpretations"),
    [
        (
            "how many views in November 2025",
            "en",
            [
                "total views of videos published in Nov 2025 (UTC)",
                "total view growth in Nov 2025 (UTC)",
            ],
        ),
        (
            "сколько видео с более чем 1000 просмотров в ноябре 2025",
            "ru",
            [
                "видео с числом просмотров больше 1\u202f000, опубликованные в ноябре 2025 (UTC)",
                "видео с числом просмотров больше 1\u202f000 на одном из почасовых замеров за "
                "ноябрь 2025 (UTC)",
            ],
        ),
        (
            "top creators",
            "en",
            [
                "top 10 creators by views",
                "top 10 creators by likes",
                "top 10 creators by number of videos",
            ],
        ),
        (
            f"stats of video {VIDEO}",
            "en",
            [f"views of video {VIDEO}", f"likes of video {VIDEO}", f"comments of video {VIDEO}"],
        ),
    ],
)
def test_ambiguous_questions_offer_readings(
    text: str, language: Language, interpretations: list[str]
) -> None:
    """A question with several sensible meanings is not guessed at: each is offered."""
    readings = readings_of(text, language)
    assert [plan.interpretation for plan in readings.plans] == interpretations
    assert readings.question


@pytest.mark.parametrize(
    ("text", "reason_word"),
    [
        ("views per day", "period"),
        ("view growth per hour in November 2025", "7 days"),
        ("top 500 videos by views", "100"),
        ("How many views per week in November 2025?", "week"),
    ],
)
def test_series_and_rankings_that_cannot_be_answered(text: str, reason_word: str) -> None:
    """A series needs a period of bounded length; a top list holds 1..100 rows."""
    result = parse(text, language="en", today=TODAY)
    assert isinstance(result, Refusal), result
    assert reason_word in result.reason
