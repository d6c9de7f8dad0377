"""A constraint that is not in the interpretation was not applied: every filter, comparison,
weekday, hour range and share condition of a plan is named in its interpretation, in English
and in Russian, for every question of the public sets that the parser answers."""

from datetime import date

import pytest

from tally.contracts.events import Language
from tally.contracts.render import format_number
from tally.language import Readings, parse
from tally.language.describe_names import counter_names
from tally.semantic.plan import Filter, Op, QueryPlan
from tests.accuracy.grouped import GROUPED
from tests.accuracy.questions import ANSWERABLE
from tests.heldout.questions import HELDOUT
from tests.metamorphic.catalog import pairs

TODAY = date(2025, 12, 1)
_EN_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RU_DAYS = ("понедельник", "вторник", "сред", "четверг", "пятниц", "суббот", "воскресень")


def _questions() -> list[tuple[str, Language]]:
    asked = [(case.text, case.language) for case in ANSWERABLE]
    asked += [(case.text, case.language) for case in HELDOUT]
    asked += [(case.text, case.language) for case in GROUPED]
    asked += [(pair.text, pair.base.language) for pair in pairs()]
    return [(text, "ru" if language == "ru" else "en") for text, language in dict.fromkeys(asked)]


def _plans() -> list[tuple[QueryPlan, Language]]:
    plans = []
    for text, language in _questions():
        result = parse(text, language=language, today=TODAY)
        found = result.plans if isinstance(result, Readings) else (result,)
        plans += [(plan, language) for plan in found if isinstance(plan, QueryPlan)]
    return plans


def _named(condition: Filter, text: str, language: Language) -> bool:
    if isinstance(condition.value, str):
        return condition.value in text
    if condition.value == 0 and condition.op in (Op.GT, Op.LT, Op.EQ):
        marks = ("0", "gained", "negative", "получавшие", "отрицательн", "без", "no ")
        return any(mark in text for mark in marks)
    return format_number(condition.value, language) in text


PLANS = _plans()


def test_the_sets_give_many_plans() -> None:
    """The check below runs over hundreds of plans of every shape."""
    assert len(PLANS) >= 300


@pytest.mark.parametrize(("plan", "language"), PLANS, ids=lambda p: getattr(p, "interpretation", p))
def test_every_constraint_is_named(plan: QueryPlan, language: Language) -> None:
    """Each filter's value (and counter), each compared counter, each weekday and hour range
    and the share's condition appear in the interpretation."""
    text = plan.interpretation
    for condition in (*plan.filters, *plan.measure.where):
        assert _named(condition, text, language), (condition, text)
        if condition.column.endswith("_count"):
            assert any(name in text for name in counter_names(condition.column, language)), text
    for pair in plan.comparisons:
        for column in (pair.column, pair.other):
            assert any(name in text for name in counter_names(column, language)), (pair, text)
    if plan.calendar:
        days = _EN_DAYS if language == "en" else _RU_DAYS
        groups = ("weekday", "weekend", "будн", "выходн")
        for day in plan.calendar.weekdays:
            assert days[day - 1] in text or any(g in text for g in groups), (plan.calendar, text)
        if plan.calendar.hours:
            assert f"{plan.calendar.hours[0]:02d}:00" in text, (plan.calendar, text)
