"""Metamorphic test of the built-in parser: a changed question never gets the old answer.

Each base question of :mod:`tests.metamorphic.catalog` is rewritten by every modifier that
fits it ("on Saturdays", "not", "median", "trending", "per creator", ...). The modified
question asks something else, so the parser must refuse it, ask back, or answer it; an
answer must equal the modified question's reference value where the catalog derives one, and
must never be the base question's value: that is the parser answering while ignoring words
it did not read. Answers run on PostgreSQL with the sample loaded, like the accuracy set.
The report (``pytest -s``) counts the pairs refused, answered right and answered wrong.
"""

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from tally.executor.domain.series import group_rows
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.language import Readings, Refusal, parse
from tally.semantic.compiler import compile_plan
from tally.semantic.plan import QueryPlan
from tests.accuracy.questions import TODAY, Case
from tests.accuracy.test_accuracy import _load_sample as load_sample
from tests.metamorphic.catalog import BASES, MODIFIERS, Pair, pairs

MIN_PAIRS = 150
"""Fewest (base, modifier) pairs the check must try for its verdict to mean anything."""

Value = int | float | Decimal | tuple[tuple[str, Any], ...] | None
"""One number, or the rows of a grouped answer, or NULL."""


@pytest.fixture(scope="module")
async def database(settings: CommonSettings) -> AsyncIterator[asyncpg.Connection]:
    """A connection to this run's database with the sample loaded (emptied afterwards)."""
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    await load_sample(connection)
    yield connection
    await connection.execute("TRUNCATE video_snapshots, videos")
    await connection.close()


def same(answer: Value, expected: Value) -> bool:
    """Equal numbers (int, Decimal, float: to 1e-9), equal rows, or both NULL."""
    if answer is None or expected is None:
        return answer is expected
    if isinstance(answer, tuple) or isinstance(expected, tuple):
        return answer == expected
    return math.isclose(float(answer), float(expected), rel_tol=1e-9, abs_tol=1e-9)


async def reference(database: asyncpg.Connection, case: Case) -> Value:
    value: Value = await database.fetchval(case.sql, *case.args)
    return value


async def answer(database: asyncpg.Connection, plan: QueryPlan) -> Value:
    """The plan's answer: its one value, or for a grouped plan its (label, value) rows."""
    query = compile_plan(plan)
    if plan.group_by is None:
        value: Value = await database.fetchval(query.sql, *query.args)
        return value
    records = await database.fetch(query.sql, *query.args)
    return tuple((row.label, row.value) for row in group_rows(plan, records))


@dataclass
class Report:
    """Outcomes of the pairs tried, with the wrong answers spelled out."""

    tried: int = 0
    skipped: int = 0
    refused: int = 0
    asked_back: int = 0
    right_gold: int = 0
    right_other: int = 0
    wrong: list[str] = field(default_factory=list)
    by_modifier: dict[str, list[int]] = field(default_factory=dict)

    def count(self, pair: Pair, outcome: str) -> None:
        self.tried += 1
        tally = self.by_modifier.setdefault(pair.modifier.name, [0, 0, 0])
        tally[("refused", "right", "wrong").index(outcome)] += 1

    def text(self) -> str:
        lines = [
            f"metamorphic pairs: {len(BASES)} bases, {len(MODIFIERS)} modifiers, "
            f"{self.tried} pairs tried ({self.skipped} skipped: the modifier cannot change "
            "the value on this data)",
            f"  refused {self.refused + self.asked_back} ({self.asked_back} asked back), "
            f"right {self.right_gold + self.right_other} ({self.right_gold} equal to the "
            f"modified question's reference, {self.right_other} differ from the base's "
            f"value), wrong {len(self.wrong)}",
            "  by modifier (refused / right / wrong):",
        ]
        lines += [
            f"    {name}: {refused} / {right} / {wrong}"
            for name, (refused, right, wrong) in self.by_modifier.items()
        ]
        lines += [f"  WRONG: {line}" for line in self.wrong]
        return "\n".join(lines)


async def _check(
    database: asyncpg.Connection, pair: Pair, base_value: Value, report: Report
) -> None:
    """Judge one pair: refused, asked back, right or wrong (see the module docstring)."""
    gold = await reference(database, pair.gold) if pair.gold else None
    if pair.gold is not None and same(gold, base_value):
        report.skipped += 1
        return
    if pair.gold is None and not base_value:
        report.skipped += 1
        return
    result = parse(pair.text, language=pair.base.language, today=TODAY)  # type: ignore[arg-type]
    if isinstance(result, Refusal | Readings):
        report.asked_back += isinstance(result, Readings)
        report.refused += isinstance(result, Refusal)
        report.count(pair, "refused")
        return
    value = await answer(database, result)
    if pair.gold is not None and same(value, gold):
        report.right_gold += 1
        report.count(pair, "right")
    elif pair.gold is None and not same(value, base_value):
        report.right_other += 1
        report.count(pair, "right")
    else:
        expected = f"expected {gold}" if pair.gold else "expected anything else"
        report.wrong.append(
            f"[{pair.modifier.name}] {pair.text} -> {value} ({result.interpretation}); "
            f"base {base_value}, {expected}"
        )
        report.count(pair, "wrong")


async def test_a_modified_question_never_gets_the_base_answer(
    database: asyncpg.Connection,
) -> None:
    """For every base question and every modifier that fits it, the modified question is
    refused or asked back, or answered with its own reference value (when the catalog gives
    one) and never with the base question's value; at least MIN_PAIRS pairs are tried, the
    bases half English, half Russian."""
    languages = [base.language for base in BASES]
    assert len(BASES) >= 40
    assert languages.count("en") == languages.count("ru")
    report = Report()
    base_values: dict[str, Value] = {}
    for pair in pairs():
        if pair.base.text not in base_values:
            base_values[pair.base.text] = await reference(database, pair.base)
        await _check(database, pair, base_values[pair.base.text], report)
    print("\n" + report.text())
    assert report.tried >= MIN_PAIRS, report.text()
    assert not report.wrong, report.text()
