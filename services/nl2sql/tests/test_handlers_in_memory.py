"""nl2sql's handler on FastStream's in-memory broker (``TestNatsBroker``), parser only: what
it publishes, on which subject, with which headers."""

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from faststream.nats import NatsBroker, TestNatsBroker
from prometheus_client import CollectorRegistry

from tally.contracts.events import DeadLetter, QueryPlanned, QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.nl2sql.app import create_broker_for
from tally.nl2sql.config import Nl2sqlSettings
from tally.testing.bus import listen


@dataclass
class Nl2sql:
    broker: NatsBroker
    subjects: Subjects
    registry: CollectorRegistry


@pytest.fixture
def nl2sql() -> Nl2sql:
    """nl2sql's broker with the built-in parser only, on a prefix of its own (not started)."""
    settings = Nl2sqlSettings(subject_prefix=f"m{uuid4().hex[:10]}", nl_engine="builtin")
    registry = CollectorRegistry()
    broker = create_broker_for(settings, registry=registry)
    return Nl2sql(broker, Subjects(settings.subject_prefix), registry)


def _question(text: str) -> QuestionAsked:
    return QuestionAsked(
        channel="telegram",
        chat_id=5,
        user_id=5,
        language="en",
        text=text,
        asked_at=datetime(2025, 12, 10, 12, 0, tzinfo=UTC),
    )


async def test_an_unknown_question_is_refused_on_its_answer_subject(
    nl2sql: Nl2sql,
) -> None:
    """A question the parser cannot read: one ``refused`` answer on
    ``answers.telegram.<qid>`` with ``Nats-Msg-Id: answer-<qid>``; no plan."""
    broker, subjects = nl2sql.broker, nl2sql.subjects
    asked = _question("What is the weather like today?")
    question_id = str(asked.question_id)
    answers = listen(broker, subjects.answer("telegram", question_id))
    plans = listen(broker, subjects.plan_ready)

    async with TestNatsBroker(broker) as running:
        await running.publish(asked, subjects.question_asked)

    [body] = answers.bodies
    answer = QuestionAnswered.model_validate(body)
    assert (answer.outcome, answer.engine, answer.question) == ("refused", "builtin", asked)
    assert answers.headers[0]["Nats-Msg-Id"] == f"answer-{question_id}"
    assert plans.bodies == []


async def test_a_question_asked_twice_is_planned_once_and_replayed(
    nl2sql: Nl2sql,
) -> None:
    """The same question twice: the parser reads it once (one question counted), the plan is
    published twice (the repeat replayed, counted)."""
    broker, subjects, registry = nl2sql.broker, nl2sql.subjects, nl2sql.registry
    asked = _question("How many videos were published in November 2025?")
    plans = listen(broker, subjects.plan_ready)

    async with TestNatsBroker(broker) as running:
        await running.publish(asked, subjects.question_asked)
        await running.publish(asked, subjects.question_asked)

    first, second = (QueryPlanned.model_validate(body) for body in plans.bodies)
    assert first == second and first.question == asked
    labels = {"outcome": "planned", "language": "en", "engine": "builtin"}
    assert registry.get_sample_value("tally_nl2sql_questions_total", labels) == 1
    replayed = {"action": "replayed"}
    assert registry.get_sample_value("tally_nl2sql_repeated_questions_total", replayed) == 1


async def test_garbage_goes_to_the_dead_letter_subject(
    nl2sql: Nl2sql,
) -> None:
    """Bytes that are not a QuestionAsked: a DeadLetter of nl2sql on ``dlq.nl2sql`` with the
    original subject; nothing planned or answered."""
    broker, subjects = nl2sql.broker, nl2sql.subjects
    letters = listen(broker, subjects.dead_letter("nl2sql"), stream=subjects.dead_letter_stream)
    plans, answers = listen(broker, subjects.plan_ready), listen(broker, subjects.answers_all)

    async with TestNatsBroker(broker) as running:
        await running.publish(b"\xff\x00 not json", subjects.question_asked)

    [body] = letters.bodies
    letter = DeadLetter.model_validate(body)
    assert (letter.service, letter.subject) == ("nl2sql", subjects.question_asked)
    assert "QuestionAsked" in letter.reason
    assert plans.bodies == answers.bodies == []
