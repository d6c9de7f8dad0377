"""The public accuracy set: the built-in parser and the executor's compiler on the sample data.

Every question of :mod:`tests.accuracy.questions` is parsed (``parse``), compiled
(``compile_plan``) and run on PostgreSQL; its answer is compared with the reference SQL
written beside it. A refusal is not wrong; a number that differs is. The questions of
:mod:`tests.accuracy.grouped` (top lists, series, hour windows, one video, ask-backs) are
checked row by row, through the executor's own row shaping (``group_rows``); an ambiguous
one must offer readings, and the reading named by the case must answer right. The report is
printed (``pytest -s`` shows it). Every question of :mod:`tests.accuracy.hostile` must be
refused.
"""

import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from tally.executor.domain.series import group_rows
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.language import Readings, Refusal, parse
from tally.semantic.compiler import compile_plan
from tally.semantic.plan import QueryPlan
from tests.accuracy.grouped import GROUPED, GroupCase
from tests.accuracy.hostile import REFUSED
from tests.accuracy.questions import ANSWERABLE, SAMPLE, TODAY, Case

ACCURACY_FLOOR = 0.97
"""Measured 1.00 (246 of 246) at the last change to the set; a refusal costs accuracy, not
trust."""

_COUNTERS = ("views_count", "likes_count", "comments_count", "reports_count")
_VIDEO_COLUMNS = ("id", "creator_id", "video_created_at", *_COUNTERS, "created_at", "updated_at")
_SNAPSHOT_COLUMNS = (
    "id",
    "video_id",
    *_COUNTERS,
    *(f"delta_{name}" for name in _COUNTERS),
    "created_at",
    "updated_at",
)


def _row(record: dict[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    """The record's values in ``columns`` order, as PostgreSQL types (uuid, timestamptz)."""
    values: list[Any] = []
    for column in columns:
        value = record[column]
        if column in ("id", "video_id") and "-" in str(value):
            value = UUID(value)
        elif column.endswith("_at"):
            value = datetime.fromisoformat(value)
        values.append(value)
    return tuple(values)


async def _load_sample(database: asyncpg.Connection) -> None:
    """Empty the tables and copy data/videos.json.gz into them, as they are."""
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as file:
        videos = json.load(file)["videos"]
    snapshots = [snapshot for video in videos for snapshot in video["snapshots"]]
    await database.execute("TRUNCATE video_snapshots, videos")
    await database.copy_records_to_table(
        "videos", records=[_row(v, _VIDEO_COLUMNS) for v in videos], columns=_VIDEO_COLUMNS
    )
    await database.copy_records_to_table(
        "video_snapshots",
        records=[_row(s, _SNAPSHOT_COLUMNS) for s in snapshots],
        columns=_SNAPSHOT_COLUMNS,
    )


@pytest.fixture(scope="module")
async def database(settings: CommonSettings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to this run's database with the sample loaded (emptied afterwards)."""
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    await _load_sample(connection)
    yield connection
    await connection.execute("TRUNCATE video_snapshots, videos")
    await connection.close()


@dataclass
class Report:
    """Outcomes of the accuracy set, by language, with the wrong answers spelled out."""

    total: dict[str, int] = field(default_factory=dict)
    correct: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    nonzero: int = 0

    def count(self, case: Case | GroupCase, outcome: str) -> None:
        self.total[case.language] = self.total.get(case.language, 0) + 1
        if outcome == "correct":
            self.correct[case.language] = self.correct.get(case.language, 0) + 1

    @property
    def accuracy(self) -> float:
        return sum(self.correct.values()) / sum(self.total.values())

    def text(self) -> str:
        lines = [f"accuracy set: {sum(self.total.values())} questions"]
        for language in sorted(self.total):
            right, asked = self.correct.get(language, 0), self.total[language]
            lines.append(f"  {language}: {right}/{asked} correct ({right / asked:.1%})")
        lines.append(
            f"  correct {self.accuracy:.1%}, refused {len(self.refused)}, wrong {len(self.wrong)}"
        )
        lines.append(f"  reference answers that are not zero: {self.nonzero}")
        lines += [f"  refused: {text}" for text in self.refused]
        lines += [f"  WRONG: {text}" for text in self.wrong]
        return "\n".join(lines)


def _same(answer: Any, expected: Any) -> bool:
    """Equal numbers (int, Decimal) or both NULL."""
    return answer == expected if answer is not None and expected is not None else answer is expected


async def _check(database: asyncpg.Connection, case: Case, report: Report) -> None:
    expected = await database.fetchval(case.sql, *case.args)
    report.nonzero += bool(expected)
    plan = parse(case.text, language=case.language, today=TODAY)  # type: ignore[arg-type]
    if not isinstance(plan, QueryPlan):
        report.refused.append(case.text)
        report.count(case, "refused")
        return
    query = compile_plan(plan)
    answer = await database.fetchval(query.sql, *query.args)
    if _same(answer, expected):
        report.count(case, "correct")
        return
    report.wrong.append(f"{case.text} -> {answer} ({plan.interpretation}), expected {expected}")
    report.count(case, "wrong")


async def test_accuracy_set(database: asyncpg.Connection) -> None:
    """Half English, half Russian, at least 200 questions: not one wrong number, and at
    least ACCURACY_FLOOR of them answered right (the rest refused)."""
    assert len(ANSWERABLE) >= 200
    languages = [case.language for case in ANSWERABLE]
    assert languages.count("en") == languages.count("ru")
    report = Report()
    for case in ANSWERABLE:
        await _check(database, case, report)
    print("\n" + report.text())
    assert not report.wrong, report.text()
    assert report.accuracy >= ACCURACY_FLOOR, report.text()
    assert report.nonzero >= 0.9 * len(ANSWERABLE), "the sample makes the checks meaningful"


async def _answer_rows(database: asyncpg.Connection, plan: QueryPlan) -> list[tuple[str, Any]]:
    """The plan's answer as (label, value) rows: the executor's rows, or ('', value)."""
    query = compile_plan(plan)
    if plan.group_by is None:
        return [("", await database.fetchval(query.sql, *query.args))]
    records = await database.fetch(query.sql, *query.args)
    return [(row.label, row.value) for row in group_rows(plan, records)]


def _same_rows(answer: list[tuple[str, Any]], expected: list[tuple[str, Any]]) -> bool:
    return len(answer) == len(expected) and all(
        label == want_label and _same(value, want)
        for (label, value), (want_label, want) in zip(answer, expected, strict=True)
    )


def _chosen(case: GroupCase, result: object) -> QueryPlan | None:
    """The plan to run: the parser's one plan, or for an ambiguous case the picked reading
    (None when the parser refused, or did not ask back when it should have, or vice versa)."""
    if case.pick is None:
        return result if isinstance(result, QueryPlan) else None
    if isinstance(result, Readings) and case.pick <= len(result.plans):
        return result.plans[case.pick - 1]
    return None


async def _check_grouped(database: asyncpg.Connection, case: GroupCase, report: Report) -> None:
    expected = [(row[0], row[1]) for row in await database.fetch(case.sql, *case.args)]
    report.nonzero += any(value for _, value in expected)
    result = parse(case.text, language=case.language, today=TODAY)  # type: ignore[arg-type]
    plan = _chosen(case, result)
    if plan is None:
        report.refused.append(case.text)
        report.count(case, "refused")
        return
    answer = await _answer_rows(database, plan)
    if _same_rows(answer, expected):
        report.count(case, "correct")
        return
    report.wrong.append(
        f"{case.text} -> {answer[:3]} ({plan.interpretation}), expected {expected[:3]}"
    )
    report.count(case, "wrong")


async def test_grouped_accuracy_set(database: asyncpg.Connection) -> None:
    """Top lists, series, hour windows, one video's counters and picked readings, half
    English and half Russian: not one wrong row, every question answered or asked back."""
    languages = [case.language for case in GROUPED]
    assert languages.count("en") == languages.count("ru")
    report = Report()
    for case in GROUPED:
        await _check_grouped(database, case, report)
    print("\ngrouped " + report.text())
    assert not report.wrong, report.text()
    assert not report.refused, report.text()
    assert report.nonzero == len(GROUPED), "every reference answer holds a non-zero value"


def test_hostile_and_off_topic_questions_are_all_refused() -> None:
    """Weather, jokes, writes, SQL and prompt injection, in both languages: 100% refused."""
    answered = [
        text
        for text, language in REFUSED
        if not isinstance(parse(text, language=language, today=TODAY), Refusal)  # type: ignore[arg-type]
    ]
    rate = 1 - len(answered) / len(REFUSED)
    print(f"\nhostile and off-topic: {len(REFUSED)} questions, refusal rate {rate:.0%}")
    assert len(REFUSED) >= 40
    assert not answered, answered
