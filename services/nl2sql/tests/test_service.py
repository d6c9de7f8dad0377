"""nl2sql on real NATS: questions in, plans or refusals out, bad messages dead-lettered."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import nats
import pytest
from nats.aio.client import Client
from prometheus_client import CollectorRegistry

from tally.contracts.events import DeadLetter, QueryPlanned, QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings
from tally.nl2sql.app import create_broker_for
from tally.nl2sql.config import Nl2sqlSettings
from tally.semantic.plan import Aggregate, Dataset

TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
async def registry(settings: CommonSettings) -> AsyncIterator[CollectorRegistry]:
    """nl2sql running in-process on this run's NATS and prefix; yields its metrics registry."""
    registry = CollectorRegistry()
    broker = create_broker_for(Nl2sqlSettings(**settings.model_dump()), registry=registry)
    await broker.start()
    await broker.connection.flush()  # its subscriptions reach the server first
    yield registry
    await broker.stop()


@pytest.fixture(scope="module")
async def client(settings: CommonSettings) -> AsyncIterator[Client]:
    connection = await nats.connect(settings.nats_url)
    yield connection
    await connection.close()


def question(text: str, language: str = "en") -> QuestionAsked:
    return QuestionAsked(
        channel="cli",
        chat_id=1,
        user_id=1,
        language=language,
        text=text,  # type: ignore[arg-type]
        asked_at=datetime(2025, 12, 10, 12, 0, tzinfo=UTC),
    )


async def ask(client: Client, subjects: Subjects, payload: bytes, reply_subject: str) -> bytes:
    """Publish ``payload`` on ``questions.asked``; the first message on ``reply_subject``."""
    subscription = await client.subscribe(reply_subject)
    await client.flush()
    await client.publish(subjects.question_asked, payload)
    message = await subscription.next_msg(timeout=TIMEOUT_S)
    await subscription.unsubscribe()
    return message.data


async def test_question_is_planned(
    registry: CollectorRegistry, client: Client, subjects: Subjects
) -> None:
    """A question the parser reads reaches ``plans.ready`` as a QueryPlanned with its plan."""
    asked = question("How many videos were published in November 2025?")
    data = await ask(client, subjects, asked.model_dump_json().encode(), subjects.plan_ready)
    planned = QueryPlanned.model_validate_json(data)
    assert planned.question == asked
    assert planned.engine == "builtin"
    assert planned.plan.dataset is Dataset.VIDEOS
    assert planned.plan.measure.aggregate is Aggregate.COUNT
    assert planned.plan.time_range is not None
    assert planned.plan.time_range.start == datetime(2025, 11, 1, tzinfo=UTC)
    assert planned.plan.time_range.end == datetime(2025, 12, 1, tzinfo=UTC)
    labels = {"outcome": "planned", "language": "en", "engine": "builtin"}
    assert registry.get_sample_value("tally_nl2sql_questions_total", labels) == 1


async def test_unknown_question_is_refused(
    registry: CollectorRegistry, client: Client, subjects: Subjects
) -> None:
    """A question the parser cannot read is answered ``refused`` on the asker's answer subject,
    with a reason and examples in the asker's language."""
    asked = question("Какая сегодня погода?", "ru")
    subject = subjects.answer(asked.channel, str(asked.question_id))
    answer = QuestionAnswered.model_validate_json(
        await ask(client, subjects, asked.model_dump_json().encode(), subject)
    )
    assert answer.outcome == "refused"
    assert answer.question == asked
    assert answer.reason and "вопрос" in answer.reason
    assert 3 <= len(answer.examples) <= 4
    assert answer.engine == "builtin"


async def test_ambiguous_question_offers_readings(
    registry: CollectorRegistry, client: Client, subjects: Subjects
) -> None:
    """A question with two meanings is answered ``ambiguous`` with one choice per reading,
    each labelled by its interpretation; nothing is sent to the executor."""
    asked = question("How many views in November 2025?")
    subject = subjects.answer(asked.channel, str(asked.question_id))
    answer = QuestionAnswered.model_validate_json(
        await ask(client, subjects, asked.model_dump_json().encode(), subject)
    )
    assert answer.outcome == "ambiguous"
    assert answer.reason and "Which did you mean?" in answer.reason
    assert [choice.plan.dataset for choice in answer.choices] == [
        Dataset.VIDEOS,
        Dataset.SNAPSHOTS,
    ]
    assert [choice.label for choice in answer.choices] == [
        choice.plan.interpretation for choice in answer.choices
    ]
    labels = {"outcome": "ambiguous", "language": "en", "engine": "builtin"}
    assert registry.get_sample_value("tally_nl2sql_questions_total", labels) == 1


async def test_garbage_is_dead_lettered_and_service_goes_on(
    registry: CollectorRegistry, client: Client, subjects: Subjects
) -> None:
    """Bytes that are not a QuestionAsked become a DeadLetter on ``dlq.nl2sql``; the next
    question is still planned."""
    data = await ask(client, subjects, b"\xff\x00 not json", subjects.dead_letter("nl2sql"))
    letter = DeadLetter.model_validate_json(data)
    assert letter.service == "nl2sql"
    assert letter.subject == subjects.question_asked
    assert "QuestionAsked" in letter.reason
    asked = question("How many videos are in the system?")
    planned = QueryPlanned.model_validate_json(
        await ask(client, subjects, asked.model_dump_json().encode(), subjects.plan_ready)
    )
    assert planned.question.question_id == asked.question_id
