"""The executor's handlers on FastStream's in-memory broker (``TestNatsBroker``): what they
publish, on which subject, with which headers, when no database is needed to answer."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import pytest
from faststream.nats import NatsBroker, TestNatsBroker
from prometheus_client import CollectorRegistry

from tally.contracts.events import (
    DeadLetter,
    QueryPlanned,
    QuestionAnswered,
    QuestionAsked,
    SqlProposed,
)
from tally.contracts.subjects import Subjects
from tally.executor.answering import OUTSIDE_GROUP
from tally.executor.app import create_broker_for
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.semantic.plan import Aggregate, Dataset, Measure, QueryPlan
from tally.testing.bus import Received, listen

DEAD_DATABASE = "postgresql://tally_reader@127.0.0.1:1/nowhere"
"""A login no server answers: a handler that reached the database would fail, not refuse."""


@dataclass
class Executor:
    broker: NatsBroker
    subjects: Subjects
    registry: CollectorRegistry

    def listen(self, subject: str, stream: str | None = None) -> Received:
        return listen(self.broker, subject, stream=stream)

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def executor() -> AsyncIterator[Executor]:
    """An executor broker (answer cache off, a database that never answers) on a prefix of
    its own; not started: the tests run it in memory."""
    settings = ExecutorSettings(
        subject_prefix=f"m{uuid4().hex[:10]}",
        answer_cache=False,
        executor_database_url=DEAD_DATABASE,
        llm_database_url=DEAD_DATABASE,
    )
    registry, reader = CollectorRegistry(), Reader(settings)
    broker = create_broker_for(settings, reader, registry=registry)
    yield Executor(broker, Subjects(settings.subject_prefix), registry)
    await reader.close()


def _question(chat_id: int = 1) -> QuestionAsked:
    return QuestionAsked(channel="cli", chat_id=chat_id, user_id=7, language="en", text="q?")


async def test_refused_sql_is_answered_on_its_subject_with_the_msg_id(executor: Executor) -> None:
    """LLM-written SQL that writes is refused by the firewall: one ``refused`` answer on
    ``answers.cli.<qid>`` with ``Nats-Msg-Id: answer-<qid>``, counted as refused."""
    proposed = SqlProposed(question=_question(), sql="DELETE FROM videos", planned_ms=1)
    question_id = str(proposed.question.question_id)
    answers = executor.listen(executor.subjects.answer("cli", question_id))

    async with TestNatsBroker(executor.broker) as broker:
        await broker.publish(proposed, executor.subjects.sql_proposed)

    [body] = answers.bodies
    answer = QuestionAnswered.model_validate(body)
    assert (answer.outcome, answer.question.question_id) == (
        "refused",
        proposed.question.question_id,
    )
    assert answer.sql == "DELETE FROM videos" and answer.reason
    assert answers.headers[0]["Nats-Msg-Id"] == f"answer-{question_id}"
    assert executor.sample("tally_executor_firewall_total", verdict="refused") == 1


async def test_a_refused_question_asked_again_gets_the_same_refusal(executor: Executor) -> None:
    """The same refused SQL published twice, the second after the first was answered (a
    re-ask: its answer did not arrive): checked once, the same refusal sent again, the
    repeat counted as replayed."""
    proposed = SqlProposed(question=_question(), sql="DROP TABLE videos", planned_ms=1)
    answers = executor.listen(executor.subjects.answer("cli", str(proposed.question.question_id)))

    async with TestNatsBroker(executor.broker) as broker:
        await broker.publish(proposed, executor.subjects.sql_proposed)
        await broker.publish(proposed, executor.subjects.sql_proposed)

    assert len(answers.bodies) == 2 and answers.bodies[0] == answers.bodies[1]
    assert executor.sample("tally_executor_firewall_total", verdict="refused") == 1
    assert executor.sample("tally_executor_repeated_questions_total", action="replayed") == 1


async def test_a_chat_plan_outside_a_group_is_refused_without_the_database(
    executor: Executor,
) -> None:
    """A plan over chat messages asked in a private chat (a positive id) is refused with the
    sentence that says to ask in the group; the dead database is never asked."""
    plan = QueryPlan(
        dataset=Dataset.MESSAGES, measure=Measure(aggregate=Aggregate.COUNT), interpretation="m"
    )
    planned = QueryPlanned(question=_question(chat_id=42), plan=plan, planned_ms=1)
    question_id = str(planned.question.question_id)
    answers = executor.listen(executor.subjects.answer("cli", question_id))

    async with TestNatsBroker(executor.broker) as broker:
        await broker.publish(planned, executor.subjects.plan_ready)

    [body] = answers.bodies
    answer = QuestionAnswered.model_validate(body)
    assert (answer.outcome, answer.reason) == ("refused", OUTSIDE_GROUP["en"])
    assert answers.headers[0]["Nats-Msg-Id"] == f"answer-{question_id}"
    assert executor.sample("tally_executor_queries_total", outcome="refused") == 1


async def test_a_malformed_plan_goes_to_the_dead_letter_subject(executor: Executor) -> None:
    """A plans.ready message that is not a QueryPlanned becomes a DeadLetter of the executor
    on ``dlq.executor``, with the original subject and payload; nothing is answered."""
    subjects = executor.subjects
    letters = executor.listen(subjects.dead_letter("executor"), subjects.dead_letter_stream)
    answers = executor.listen(executor.subjects.answers_all)

    async with TestNatsBroker(executor.broker) as broker:
        await broker.publish(b'{"question": "not one"}', executor.subjects.plan_ready)

    [body] = letters.bodies
    letter = DeadLetter.model_validate(body)
    assert (letter.service, letter.subject) == ("executor", executor.subjects.plan_ready)
    assert letter.payload == '{"question": "not one"}'
    assert answers.bodies == []
