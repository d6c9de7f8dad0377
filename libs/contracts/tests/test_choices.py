"""Ambiguous answers: how their readings read, and the QueryPlanned a pick becomes."""

import pytest

from tally.contracts.choices import plan_choice
from tally.contracts.events import Choice, Language, QuestionAnswered, QuestionAsked
from tally.contracts.render import render_answer, render_choices
from tally.semantic.plan import Aggregate, Dataset, Measure, QueryPlan


def plan(column: str) -> QueryPlan:
    measure = Measure(aggregate=Aggregate.SUM, column=column)
    return QueryPlan(dataset=Dataset.VIDEOS, measure=measure, interpretation=f"sum of {column}")


def ambiguous(language: Language = "en", reason: str | None = "Which count?") -> QuestionAnswered:
    question = QuestionAsked(
        channel="cli", chat_id=0, user_id=0, language=language, text="How many views and likes?"
    )
    return QuestionAnswered(
        question=question,
        outcome="ambiguous",
        reason=reason,
        choices=(
            Choice(label="total views", plan=plan("views_count")),
            Choice(label="total likes", plan=plan("likes_count")),
            Choice(label="total comments", plan=plan("comments_count")),
        ),
    )


def test_choices_read_as_the_reason_and_numbered_labels() -> None:
    """The reason, then ``1. label`` per reading; render_answer gives the same text."""
    answer = ambiguous()

    text = render_choices(answer)

    assert text == "Which count?\n1. total views\n2. total likes\n3. total comments"
    assert render_answer(answer) == text


@pytest.mark.parametrize(
    ("language", "question"), [("en", "Which did you mean?"), ("ru", "Что вы имели в виду?")]
)
def test_choices_without_a_reason_ask_which_was_meant(language: Language, question: str) -> None:
    """Without a reason, the first line asks which reading was meant, in the asker's language."""
    assert render_choices(ambiguous(language, reason=None)).splitlines()[0] == question


def test_a_pick_is_the_same_question_under_a_new_id_with_the_picked_plan() -> None:
    """Reading 3 becomes a builtin QueryPlanned of its plan; the question keeps its channel,
    chat, user, language and text, with a new id and a later asked_at."""
    answer = ambiguous()

    planned = plan_choice(answer, 3)

    assert planned.plan == plan("comments_count")
    assert (planned.engine, planned.planned_ms) == ("builtin", 0)
    original, picked = answer.question, planned.question
    assert picked.question_id != original.question_id
    assert picked.asked_at >= original.asked_at
    same = {"question_id", "asked_at"}
    assert picked.model_dump(exclude=same) == original.model_dump(exclude=same)


@pytest.mark.parametrize("number", [0, 4, -1])
def test_a_reading_that_was_not_offered_cannot_be_picked(number: int) -> None:
    """Numbers start at 1 and stop at the number of readings offered."""
    with pytest.raises(ValueError, match="not one of the 3 offered"):
        plan_choice(ambiguous(), number)
