"""Grouped answers as chat text: ranked lists, series, nothing found, and the message limit."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from tally.contracts.events import GroupRow, Language, QuestionAnswered, QuestionAsked
from tally.contracts.render import MAX_MESSAGE, render_answer
from tally.semantic.plan import (
    Aggregate,
    Dataset,
    Dimension,
    Grouping,
    Measure,
    QueryPlan,
    TimeRange,
)

YEAR = TimeRange(
    column="created_at",
    start=datetime(2025, 1, 1, tzinfo=UTC),
    end=datetime(2026, 1, 2, tzinfo=UTC),
)


def _answer(
    language: Language, by: Dimension, rows: Sequence[tuple[str, int | float | None]]
) -> QuestionAnswered:
    plan = QueryPlan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        time_range=YEAR,
        group_by=Grouping(by=by),
        interpretation="views gained",
    )
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language=language, text="q")
    return QuestionAnswered(
        question=question,
        outcome="answered",
        plan=plan,
        interpretation=plan.interpretation,
        rows=tuple(GroupRow(label=label, value=value) for label, value in rows),
        row_count=len(rows),
    )


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_top_n_is_a_numbered_list_then_what_was_counted() -> None:
    """Entities are ranked lines with English thousands separators; no value is a dash."""
    rows = [("creator-a", 1_234_567), ("creator-b", 12.5), ("creator-c", None)]
    assert render_answer(_answer("en", Dimension.CREATOR, rows)) == (
        "1. creator-a — 1,234,567\n2. creator-b — 12.50\n3. creator-c — —\nCounted: views gained"
    )


def test_a_russian_series_uses_russian_numbers_and_words() -> None:
    """Series lines are ``label: value``, with narrow no-break spaces and a decimal comma."""
    rows = [("2025-11-28", 1_234), ("2025-11-29", 0), ("2025-11-30", 2.5)]
    assert render_answer(_answer("ru", Dimension.DAY, rows)) == (
        "2025-11-28: 1\u202f234\n2025-11-29: 0\n2025-11-30: 2,50\nПосчитано: views gained"
    )


@pytest.mark.parametrize(
    ("language", "by", "text"),
    [
        ("en", Dimension.VIDEO, "No videos match."),
        ("en", Dimension.CREATOR, "No creators match."),
        ("ru", Dimension.VIDEO, "Ничего не найдено."),
        ("ru", Dimension.CREATOR, "Ничего не найдено."),
    ],
)
def test_an_empty_top_n_says_nothing_matched(language: Language, by: Dimension, text: str) -> None:
    """No rows is a sentence in the asker's language, still with what was counted."""
    counted = "Counted" if language == "en" else "Посчитано"
    assert render_answer(_answer(language, by, [])) == f"{text}\n{counted}: views gained"


@pytest.mark.parametrize(("language", "more"), [("en", "… and "), ("ru", "… и ещё ")])
def test_a_year_of_days_is_cut_to_one_telegram_message(language: Language, more: str) -> None:
    """366 days of large numbers do not fit in 4096 characters: the first days are shown in
    order, then how many more there are, then what was counted."""
    days = [(date(2025, 1, 1) + timedelta(days=n)).isoformat() for n in range(366)]
    text = render_answer(_answer(language, Dimension.DAY, [(d, 123_456_789) for d in days]))
    lines = text.split("\n")
    assert len(text) <= MAX_MESSAGE
    assert lines[-2].startswith(more) and lines[-1].endswith(": views gained")
    shown = [line.split(":")[0] for line in lines[:-2]]
    assert shown == days[: len(shown)]
    hidden = int(lines[-2].removeprefix(more).removesuffix(" more"))
    assert len(shown) + hidden == 366
    assert len(text) + len(lines[0]) + 1 > MAX_MESSAGE


def test_the_limit_counts_utf16_code_units() -> None:
    """Labels outside the Basic Multilingual Plane count twice, as Telegram counts them."""
    rows = [("😀" * 40 + f"{n:02}", n) for n in range(100)]
    text = render_answer(_answer("en", Dimension.CREATOR, rows))
    assert _utf16_length(text) <= MAX_MESSAGE
    assert text.split("\n")[-2].startswith("… and ")


def test_a_short_list_is_not_cut() -> None:
    """A top-100 of short labels fits whole."""
    rows = [(f"c{n}", n) for n in range(100)]
    lines = render_answer(_answer("en", Dimension.CREATOR, rows)).split("\n")
    assert (len(lines), lines[99]) == (101, "100. c99 — 99")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Nothing matched, so there is no value to show.\nCounted: average views"),
        ("ru", "Ничего не подошло, поэтому значения нет.\nПосчитано: average views"),
    ],
)
def test_an_average_of_nothing_says_so(language: Language, text: str) -> None:
    """An answered question with no value (an average of no rows) is not shown as a failure."""
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language=language, text="q")
    answer = QuestionAnswered(
        question=question, outcome="answered", value=None, interpretation="average views"
    )
    assert render_answer(answer) == text
