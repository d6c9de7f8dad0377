"""The constructs that combine with every question, read into the plan and restated in its
interpretation, in English and Russian."""

from datetime import date

import pytest

from tally.language import Refusal, parse
from tally.semantic.plan import Aggregate, Op, QueryPlan

TODAY = date(2025, 12, 1)
CREATOR = "1da0de71fd164ba905560bb68d24a3a8"


def _plan(question: str, language: str = "en") -> QueryPlan:
    result = parse(question, language=language, today=TODAY)  # type: ignore[arg-type]
    assert isinstance(result, QueryPlan), (question, result)
    return result


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("How many videos have more comments than likes?", "en"),
        ("Сколько видео, где комментариев больше, чем лайков?", "ru"),
        ("How many videos got more views than likes?", "en"),
    ],
)
def test_two_counters_compared(question: str, language: str) -> None:
    """ "More comments than likes" compares two columns of the same video."""
    [pair] = _plan(question, language).comparisons
    assert pair.op is Op.GT and {pair.column, pair.other} <= {
        "comments_count",
        "likes_count",
        "views_count",
    }


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("How many videos have from 200 to 800 likes?", "en"),
        ("How many videos have between 200 and 800 likes?", "en"),
        ("Сколько видео набрали от 200 до 800 лайков?", "ru"),
    ],
)
def test_a_range_includes_both_ends(question: str, language: str) -> None:
    """Both ends are kept, and the interpretation says they are included."""
    plan = _plan(question, language)
    assert {(f.op, f.value) for f in plan.filters} == {(Op.GE, 200), (Op.LE, 800)}
    assert "200" in plan.interpretation and "800" in plan.interpretation
    assert "included" in plan.interpretation or "включительно" in plan.interpretation


@pytest.mark.parametrize(
    ("question", "language", "op", "value"),
    [
        ("How many videos with likes?", "en", Op.GT, 0),
        ("Сколько видео с лайками?", "ru", Op.GT, 0),
        ("How many videos have at least one like?", "en", Op.GE, 1),
        ("Сколько видео без комментариев?", "ru", Op.EQ, 0),
    ],
)
def test_with_and_without_a_counter(question: str, language: str, op: Op, value: int) -> None:
    """ "With likes" is more than 0, "at least one" at least 1, "без" exactly 0."""
    [condition] = _plan(question, language).filters
    assert (condition.op, condition.value) == (op, value)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        (f"How many videos are there except creator {CREATOR}?", "en"),
        (f"Сколько видео помимо креатора {CREATOR}?", "ru"),
        (f"Сколько видео, не считая креатора {CREATOR}?", "ru"),
    ],
)
def test_an_excluded_creator_is_not_the_creator_asked_about(question: str, language: str) -> None:
    """ "Except creator X" leaves X out: never X's count alone."""
    [condition] = _plan(question, language).filters
    assert (condition.column, condition.op, condition.value) == ("creator_id", Op.NE, CREATOR)


@pytest.mark.parametrize(
    ("question", "language", "days"),
    [
        ("How many videos came out on Saturdays in November 2025?", "en", (6,)),
        ("Сколько видео вышло по субботам в ноябре 2025?", "ru", (6,)),
        ("How many videos were published on weekdays?", "en", (1, 2, 3, 4, 5)),
        ("Сколько видео вышло в выходные?", "ru", (6, 7)),
        ("How many videos were published on Fridays and Saturdays?", "en", (5, 6)),
    ],
)
def test_weekdays(question: str, language: str, days: tuple[int, ...]) -> None:
    """Days of the week are ISO numbers on the publication time, in UTC."""
    calendar = _plan(question, language).calendar
    assert calendar is not None and calendar.weekdays == days
    assert calendar.column == "video_created_at"


def test_before_an_hour_of_the_day() -> None:
    """ "Before 09:00" is [00:00, 09:00) of every day, stated in the interpretation."""
    plan = _plan("How many videos were published before 09:00?")
    assert plan.calendar is not None and plan.calendar.hours == (0, 9)
    assert "00:00–09:00" in plan.interpretation


@pytest.mark.parametrize(
    ("question", "language", "aggregate", "fraction"),
    [
        ("What is the median likes count?", "en", Aggregate.MEDIAN, None),
        ("Какое медианное количество лайков?", "ru", Aggregate.MEDIAN, None),
        ("What is the 90th percentile of views?", "en", Aggregate.PERCENTILE, 0.9),
        ("Чему равен 90-й процентиль просмотров?", "ru", Aggregate.PERCENTILE, 0.9),
    ],
)
def test_statistics(
    question: str, language: str, aggregate: Aggregate, fraction: float | None
) -> None:
    """A median is never a sum; a percentile keeps its fraction."""
    measure = _plan(question, language).measure
    assert (measure.aggregate, measure.fraction) == (aggregate, fraction)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("What share of videos have over 50 comments?", "en"),
        ("Какая доля видео набрала больше 50 комментариев?", "ru"),
    ],
)
def test_a_share_measures_its_condition(question: str, language: str) -> None:
    """The counter condition is what the percentage is of."""
    measure = _plan(question, language).measure
    assert measure.aggregate is Aggregate.SHARE
    assert [(f.column, f.op, f.value) for f in measure.where] == [("comments_count", Op.GT, 50)]


@pytest.mark.parametrize(
    ("question", "language"),
    [
        (f"On how many different days did creator {CREATOR} publish videos?", "en"),
        (f"Сколько разных дней публиковал видео креатор {CREATOR}?", "ru"),
    ],
)
def test_distinct_days(question: str, language: str) -> None:
    """Distinct publication days of one creator."""
    plan = _plan(question, language)
    assert plan.measure.period == "day" and plan.measure.aggregate is Aggregate.COUNT_DISTINCT


@pytest.mark.parametrize(
    "question",
    [
        "How many videos have zero reports but plenty of likes?",
        "What share of videos were published in November 2025?",
        "How many creators have all of their videos above 1,000 views?",
    ],
)
def test_what_is_not_read_is_refused(question: str) -> None:
    """Vague words, a share of something other than a counter condition, and a quantifier
    over a creator's videos are refused, not answered as something else."""
    assert isinstance(parse(question, language="en", today=TODAY), Refusal)


@pytest.mark.parametrize(
    ("question", "language", "asked", "ranked_by"),
    [
        ("How many comments does the most liked video have?", "en", "comments", "likes"),
        ("Сколько просмотров у самого комментируемого видео?", "ru", "views", "comments"),
        ("How many likes does the least viewed video have?", "en", "likes", "views"),
    ],
)
def test_a_superlatives_subject(question: str, language: str, asked: str, ranked_by: str) -> None:
    """The counter asked about the video a superlative on another counter picks: the video is
    ranked by one counter and answered with the other, never the top value itself."""
    plan = _plan(question, language)
    assert plan.group_by is not None and plan.group_by.rank_by is not None
    assert plan.group_by.limit == 1
    assert (plan.measure.column, plan.group_by.rank_by.column) == (
        f"{asked}_count",
        f"{ranked_by}_count",
    )
