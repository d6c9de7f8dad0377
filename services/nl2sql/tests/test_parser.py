"""The built-in parser: the questions of seed 000 and their neighbours, in English and Russian."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tally.contracts.events import Language
from tally.language import Refusal, parse
from tally.language.refusal import EXAMPLES
from tally.semantic.plan import Aggregate, Dataset, Filter, Measure, Op, QueryPlan, TimeRange

TODAY = date(2025, 12, 10)
CREATOR = "aca1061a9d324ecf8c3fa2bb32d7be63"
VIDEOS, SNAPSHOTS = Dataset.VIDEOS, Dataset.SNAPSHOTS
COUNT = Measure(aggregate=Aggregate.COUNT)
DISTINCT_VIDEOS = Measure(aggregate=Aggregate.COUNT_DISTINCT, column="video_id")
CREATORS = Measure(aggregate=Aggregate.COUNT_DISTINCT, column="creator_id")


def days(column: str, first: date, last: date) -> TimeRange:
    """The UTC range from ``first`` to ``last``, both inclusive."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return TimeRange(column=column, start=start, end=end)  # type: ignore[arg-type]


def published(first: date, last: date | None = None) -> TimeRange:
    return days("video_created_at", first, last or first)


def on(first: date, last: date | None = None) -> TimeRange:
    return days("created_at", first, last or first)


def measure(aggregate: Aggregate, column: str) -> Measure:
    return Measure(aggregate=aggregate, column=column)  # type: ignore[arg-type]


def where(column: str, op: Op, value: int | str) -> Filter:
    return Filter(column=column, op=op, value=value)  # type: ignore[arg-type]


def plan_of(text: str, language: Language) -> QueryPlan:
    result = parse(text, language=language, today=TODAY)
    assert isinstance(result, QueryPlan), f"{text!r} was refused: {result}"
    return result


NOV = date(2025, 11, 1), date(2025, 11, 30)
NOV_1_5 = date(2025, 11, 1), date(2025, 11, 5)
NOV_27, NOV_28 = date(2025, 11, 27), date(2025, 11, 28)

SEED_QUESTIONS = [
    ("How many videos are in the system?", "en", VIDEOS, COUNT, (), None),
    ("Сколько всего видео есть в системе?", "ru", VIDEOS, COUNT, (), None),
    (
        "How many videos got more than 100,000 views?",
        "en",
        VIDEOS,
        COUNT,
        (where("views_count", Op.GT, 100_000),),
        None,
    ),
    (
        "Сколько видео набрало больше 100 000 просмотров за всё время?",
        "ru",
        VIDEOS,
        COUNT,
        (where("views_count", Op.GT, 100_000),),
        None,
    ),
    (
        "How many total likes do all videos have?",
        "en",
        VIDEOS,
        measure(Aggregate.SUM, "likes_count"),
        (),
        None,
    ),
    (
        "Сколько всего лайков у всех видео?",
        "ru",
        VIDEOS,
        measure(Aggregate.SUM, "likes_count"),
        (),
        None,
    ),
    ("How many videos were published in November 2025?", "en", VIDEOS, COUNT, (), published(*NOV)),
    ("Сколько видео опубликовано в ноябре 2025?", "ru", VIDEOS, COUNT, (), published(*NOV)),
    (
        "How many videos gained views on November 28, 2025?",
        "en",
        SNAPSHOTS,
        DISTINCT_VIDEOS,
        (where("delta_views_count", Op.GT, 0),),
        on(NOV_28),
    ),
    (
        "Сколько разных видео получали новые просмотры 27 ноября 2025?",
        "ru",
        SNAPSHOTS,
        DISTINCT_VIDEOS,
        (where("delta_views_count", Op.GT, 0),),
        on(NOV_27),
    ),
    (
        "What was the total view growth on November 27, 2025?",
        "en",
        SNAPSHOTS,
        measure(Aggregate.SUM, "delta_views_count"),
        (),
        on(NOV_27),
    ),
    (
        "На сколько просмотров в сумме выросли все видео 28 ноября 2025?",
        "ru",
        SNAPSHOTS,
        measure(Aggregate.SUM, "delta_views_count"),
        (),
        on(NOV_28),
    ),
    (
        "How many videos does creator abc123 have?",
        "en",
        VIDEOS,
        COUNT,
        (where("creator_id", Op.EQ, "abc123"),),
        None,
    ),
    (
        f"Сколько видео у креатора с id {CREATOR}?",
        "ru",
        VIDEOS,
        COUNT,
        (where("creator_id", Op.EQ, CREATOR),),
        None,
    ),
    (
        "How many videos from creator xyz789 were published between November 1-5, 2025?",
        "en",
        VIDEOS,
        COUNT,
        (where("creator_id", Op.EQ, "xyz789"),),
        published(*NOV_1_5),
    ),
    (
        f"Сколько видео у креатора с id {CREATOR} вышло с 1 ноября 2025 по 5 ноября 2025 "
        "включительно?",
        "ru",
        VIDEOS,
        COUNT,
        (where("creator_id", Op.EQ, CREATOR),),
        published(*NOV_1_5),
    ),
]

NEIGHBOURS = [
    (
        "How many videos have at least 500 likes?",
        "en",
        VIDEOS,
        COUNT,
        (where("likes_count", Op.GE, 500),),
        None,
    ),
    (
        "Сколько видео имеют не менее 10 комментариев?",
        "ru",
        VIDEOS,
        COUNT,
        (where("comments_count", Op.GE, 10),),
        None,
    ),
    (
        "How many videos have fewer than 5 reports?",
        "en",
        VIDEOS,
        COUNT,
        (where("reports_count", Op.LT, 5),),
        None,
    ),
    (
        "Сколько видео набрало меньше 1,5 млн просмотров?",
        "ru",
        VIDEOS,
        COUNT,
        (where("views_count", Op.LT, 1_500_000),),
        None,
    ),
    (
        "Сколько видео, у которых лайков больше 1000?",
        "ru",
        VIDEOS,
        COUNT,
        (where("likes_count", Op.GT, 1000),),
        None,
    ),
    (
        "How many comments do all videos have in total?",
        "en",
        VIDEOS,
        measure(Aggregate.SUM, "comments_count"),
        (),
        None,
    ),
    (
        "Сколько всего жалоб у всех видео?",
        "ru",
        VIDEOS,
        measure(Aggregate.SUM, "reports_count"),
        (),
        None,
    ),
    (
        "What is the average number of views per video?",
        "en",
        VIDEOS,
        measure(Aggregate.AVG, "views_count"),
        (),
        None,
    ),
    (
        "Среднее число лайков на видео?",
        "ru",
        VIDEOS,
        measure(Aggregate.AVG, "likes_count"),
        (),
        None,
    ),
    (
        "What is the maximum number of views of a video?",
        "en",
        VIDEOS,
        measure(Aggregate.MAX, "views_count"),
        (),
        None,
    ),
    (
        "Какое минимальное число комментариев у видео?",
        "ru",
        VIDEOS,
        measure(Aggregate.MIN, "comments_count"),
        (),
        None,
    ),
    (
        "Минимальное число комментариев у видео?",
        "ru",
        VIDEOS,
        measure(Aggregate.MIN, "comments_count"),
        (),
        None,
    ),
    ("How many creators are there?", "en", VIDEOS, CREATORS, (), None),
    (
        "Сколько креаторов опубликовали видео в октябре?",
        "ru",
        VIDEOS,
        CREATORS,
        (),
        published(date(2025, 10, 1), date(2025, 10, 31)),
    ),
    (
        "How many snapshots had negative view deltas?",
        "en",
        SNAPSHOTS,
        COUNT,
        (where("delta_views_count", Op.LT, 0),),
        None,
    ),
    (
        "Сколько замеров с отрицательным приростом лайков?",
        "ru",
        SNAPSHOTS,
        COUNT,
        (where("delta_likes_count", Op.LT, 0),),
        None,
    ),
    (
        "How many videos gained likes yesterday?",
        "en",
        SNAPSHOTS,
        DISTINCT_VIDEOS,
        (where("delta_likes_count", Op.GT, 0),),
        on(date(2025, 12, 9)),
    ),
    (
        "На сколько выросло число комментариев вчера?",
        "ru",
        SNAPSHOTS,
        measure(Aggregate.SUM, "delta_comments_count"),
        (),
        on(date(2025, 12, 9)),
    ),
    (
        "How many videos were published in October?",
        "en",
        VIDEOS,
        COUNT,
        (),
        published(date(2025, 10, 1), date(2025, 10, 31)),
    ),
    (
        "Сколько видео вышло в декабре?",
        "ru",
        VIDEOS,
        COUNT,
        (),
        published(date(2025, 12, 1), date(2025, 12, 31)),
    ),
    (
        "Сколько видео вышло в марте?",
        "ru",
        VIDEOS,
        COUNT,
        (),
        published(date(2025, 3, 1), date(2025, 3, 31)),
    ),
]


def assert_plan(text: str, language: Language, dataset, measure_, filters, time_range) -> None:
    plan = plan_of(text, language)
    assert (plan.dataset, plan.measure, plan.filters, plan.time_range) == (
        dataset,
        measure_,
        filters,
        time_range,
    )
    assert plan.interpretation and "\n" not in plan.interpretation


@pytest.mark.parametrize(
    ("text", "language", "dataset", "measure_", "filters", "time_range"), SEED_QUESTIONS
)
def test_seed_questions(text, language, dataset, measure_, filters, time_range) -> None:
    """Every example question of seed 000, in English and Russian, gives its full plan."""
    assert_plan(text, language, dataset, measure_, filters, time_range)


@pytest.mark.parametrize(
    ("text", "language", "dataset", "measure_", "filters", "time_range"), NEIGHBOURS
)
def test_neighbour_questions(text, language, dataset, measure_, filters, time_range) -> None:
    """Other counters, comparisons, aggregates and relative dates give their plans; a
    question asking "which" is refused."""
    if dataset is None:
        assert isinstance(parse(text, language=language, today=TODAY), Refusal)
    else:
        assert_plan(text, language, dataset, measure_, filters, time_range)


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("100000", 100_000),
        ("100 000", 100_000),
        ("100\u00a0000", 100_000),
        ("100,000", 100_000),
        ("100k", 100_000),
        ("100 тыс", 100_000),
        ("1.5 млн", 1_500_000),
        ("1,5 млн", 1_500_000),
        ("2 million", 2_000_000),
        ("1 000 000", 1_000_000),
    ],
)
def test_number_formats(written: str, value: int) -> None:
    """Numbers with spaces, commas, "k" and "млн" read as the same integer."""
    plan = plan_of(f"How many videos got more than {written} views?", "en")
    assert plan.filters == (where("views_count", Op.GT, value),)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("November 28, 2025", NOV_28, NOV_28),
        ("28 ноября 2025", NOV_28, NOV_28),
        ("28.11.2025", NOV_28, NOV_28),
        ("2025-11-28", NOV_28, NOV_28),
        ("Nov 28th", NOV_28, NOV_28),
        ("28 ноября 2025 года", NOV_28, NOV_28),
        ("between November 1-5, 2025", *NOV_1_5),
        ("с 1 по 5 ноября 2025", *NOV_1_5),
        ("from 2025-11-01 to 2025-11-05", *NOV_1_5),
        ("с 01.11.2025 по 05.11.2025", *NOV_1_5),
        ("in November 2025", *NOV),
        ("в ноябре 2025", *NOV),
        ("в ноябре", *NOV),
        ("с 28 декабря 2024 по 3 января 2025", date(2024, 12, 28), date(2025, 1, 3)),
        ("in 2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("last month", *NOV),
        ("yesterday", date(2025, 12, 9), date(2025, 12, 9)),
        ("вчера", date(2025, 12, 9), date(2025, 12, 9)),
        ("за последние 7 дней", date(2025, 12, 4), TODAY),
    ],
)
def test_date_formats(text: str, first: date, last: date) -> None:
    """Dates in every written form become UTC calendar days, both ends included."""
    plan = plan_of(f"How many videos were published {text}?", "en")
    assert plan.time_range == published(first, last)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("What's the weather?", "en"),
        ("Какая сегодня погода?", "ru"),
        ("asdf qwerty zxcv", "en"),
        ("", "en"),
        ("How many views per week in November 2025?", "en"),
        ("Покажи список видео", "ru"),
        ("Which videos were published yesterday?", "en"),
        ("How many videos got more than 1.5 views?", "en"),
        ("How many videos were published on November 31, 2025?", "en"),
        ("How many videos were published next week?", "en"),
        ("How many videos were published on November 28 and in December?", "en"),
        ("How many videos does the creator have?", "en"),
        ("How many videos gained more than 1000 views on November 28, 2025?", "en"),
        ("Сколько видео не набрало ни одного просмотра?", "ru"),
        ("How many likes and comments do videos have?", "en"),
    ],
)
def test_refusals(text: str, language: Language) -> None:
    """Unrelated, ambiguous or half-understood questions are refused with a reason and 3-4
    example questions, in the asker's language."""
    result = parse(text, language=language, today=TODAY)
    assert isinstance(result, Refusal), result
    assert result.reason and 3 <= len(result.examples) <= 4
    assert result.examples == EXAMPLES[language]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_examples_are_answerable(language: Language) -> None:
    """Each example offered in a refusal parses into a plan."""
    for example in EXAMPLES[language]:
        plan_of(example, language)


@pytest.mark.parametrize(
    ("text", "language", "interpretation"),
    [
        (
            "How many videos from creator xyz789 were published between November 1-5, 2025?",
            "en",
            "videos published 1–5 Nov 2025 (UTC) by creator xyz789",
        ),
        (
            "Сколько видео у креатора с id xyz789 вышло с 1 по 5 ноября 2025?",
            "ru",
            "видео, опубликованные 1–5 ноября 2025 (UTC), креатора xyz789",
        ),
        (
            "How many videos gained views on November 28, 2025?",
            "en",
            "videos that gained views on 28 Nov 2025 (UTC)",
        ),
        (
            "На сколько просмотров в сумме выросли все видео 28 ноября 2025?",
            "ru",
            "суммарный прирост просмотров за 28 ноября 2025 (UTC)",
        ),
        (
            "How many videos got more than 100,000 views?",
            "en",
            "videos with more than 100,000 views",
        ),
    ],
)
def test_interpretation(text: str, language: Language, interpretation: str) -> None:
    """The interpretation is one line in the asker's language."""
    assert plan_of(text, language).interpretation == interpretation


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("How many videos are in the system?", "en", "all videos"),
        ("Сколько всего видео есть в системе?", "ru", "все видео"),
    ],
)
def test_unfiltered_count_says_all(text: str, language: Language, expected: str) -> None:
    """Counting every row reads "all videos", so the reply says what was counted."""
    plan = parse(text, language=language, today=date(2025, 12, 1))
    assert isinstance(plan, QueryPlan)
    assert plan.interpretation == expected
