"""Picking one reading of an ambiguous answer: the picked plan is asked as a new question.

nl2sql answers a question with several readings with ``outcome="ambiguous"`` and 2-3
``choices``; the asking channel (the gateway's buttons, the terminal chat's numbers) sends
the one picked to the executor as a ``QueryPlanned``, and its answer comes back like any other.
"""

from tally.contracts.events import QueryPlanned, QuestionAnswered, QuestionAsked


def plan_choice(answer: QuestionAnswered, number: int) -> QueryPlanned:
    """The QueryPlanned for reading ``number`` (1-based, as shown) of ``answer``.

    Its question is ``answer.question`` under a new ``question_id``, asked now (UTC), so the
    pick is answered, logged and traced as a question of its own; ``planned_ms`` is 0.
    Raises ValueError when ``number`` is not in ``1..len(answer.choices)``.
    """
    if not 1 <= number <= len(answer.choices):
        raise ValueError(f"reading {number} is not one of the {len(answer.choices)} offered")
    question = QuestionAsked(**answer.question.model_dump(exclude={"question_id", "asked_at"}))
    return QueryPlanned(
        question=question, plan=answer.choices[number - 1].plan, engine="builtin", planned_ms=0
    )
