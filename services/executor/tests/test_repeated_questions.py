"""A question asked again (the gateway's re-asks, passed on by nl2sql) in the running
executor, on real NATS and PostgreSQL: one query per question id, unless the first failed, and
the answer published again when it was lost on the way."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import nats
import pytest
from nats.aio.client import Client
from nats.aio.subscription import Subscription
from prometheus_client import CollectorRegistry

from tally.contracts.events import Event, QueryPlanned, QuestionAnswered, QuestionAsked, SqlProposed
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.settings import CommonSettings
from tally.semantic.plan import Aggregate, Dataset, Measure, QueryPlan
from tally.testing.waiting import until

DEAD_DATABASE = "postgresql://tally_reader@127.0.0.1:1/nowhere"
PLAN = QueryPlan(
    dataset=Dataset.VIDEOS, measure=Measure(aggregate=Aggregate.COUNT), interpretation="videos"
)


@dataclass
class Executor:
    client: Client
    subjects: Subjects
    registry: CollectorRegistry

    async def publish(self, event: Event, subject: str, times: int) -> None:
        for _ in range(times):
            await self.client.publish(subject, event.model_dump_json().encode())
        await self.client.flush()

    async def answers(self, question: QuestionAsked) -> Subscription:
        subject = self.subjects.answer(question.channel, str(question.question_id))
        return await self.client.subscribe(subject)

    @property
    def repeated(self) -> float:
        return self.replayed + self._sample("tally_executor_repeated_questions_total", "dropped")

    @property
    def replayed(self) -> float:
        return self._sample("tally_executor_repeated_questions_total", "replayed")

    @property
    def queries(self) -> float:
        """Plans run on the database (``answered`` outcome)."""
        return (
            self.registry.get_sample_value("tally_executor_queries_total", {"outcome": "answered"})
            or 0.0
        )

    def _sample(self, name: str, action: str) -> float:
        return self.registry.get_sample_value(name, {"action": action}) or 0.0


async def _running(settings: ExecutorSettings) -> AsyncIterator[Executor]:
    subjects, registry = Subjects(settings.subject_prefix), CollectorRegistry()
    client = await nats.connect(settings.nats_url)
    await ensure_streams(client.jetstream(), subjects)
    reader = Reader(settings)
    broker = create_broker_for(settings, reader, registry=registry)
    await broker.start()
    await broker.connection.flush()  # its subscriptions reach the server first
    yield Executor(client, subjects, registry)
    await broker.stop()
    await reader.close()
    await delete_streams(client.jetstream(), subjects)
    await client.close()


@pytest.fixture(scope="module")
async def executor(settings: CommonSettings) -> AsyncIterator[Executor]:
    """The executor (answer cache off) on a prefix of its own."""
    fields = {**settings.model_dump(), "subject_prefix": f"x{uuid4().hex[:10]}"}
    async for running in _running(ExecutorSettings(**fields, answer_cache=False)):
        yield running


@pytest.fixture(scope="module")
async def broken(settings: CommonSettings) -> AsyncIterator[Executor]:
    """An executor whose database does not answer, on a prefix of its own."""
    fields = {**settings.model_dump(), "subject_prefix": f"y{uuid4().hex[:10]}"}
    async for running in _running(ExecutorSettings(**fields, executor_database_url=DEAD_DATABASE)):
        yield running


def _question() -> QuestionAsked:
    return QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q?")


async def _answer(subscription: Subscription) -> QuestionAnswered:
    return QuestionAnswered.model_validate_json((await subscription.next_msg(timeout=10)).data)


async def _nothing_more(subscription: Subscription) -> None:
    with pytest.raises(nats.errors.TimeoutError):
        await subscription.next_msg(timeout=0.5)


async def _four_times(executor: Executor, event: QueryPlanned | SqlProposed, subject: str) -> None:
    """``event`` published four times at once: one answer, then each repeat either dropped
    (the first still in flight) or given the same answer again, every repeat counted."""
    answers = await executor.answers(event.question)
    before, replayed = executor.repeated, executor.replayed

    await executor.publish(event, subject, times=4)

    first = await _answer(answers)
    assert first.outcome == "answered"
    await until(lambda: executor.repeated == before + 3, what="three repeats counted")
    again = [await _answer(answers) for _ in range(int(executor.replayed - replayed))]
    await _nothing_more(answers)
    assert again == [first] * len(again)


async def test_a_plan_published_four_times_is_run_once(executor: Executor) -> None:
    """The same QueryPlanned four times: one query on the database."""
    planned = QueryPlanned(question=_question(), plan=PLAN, planned_ms=1)
    queries = executor.queries

    await _four_times(executor, planned, executor.subjects.plan_ready)

    assert executor.queries == queries + 1


async def test_sql_published_four_times_is_run_once(executor: Executor) -> None:
    """The same SqlProposed four times: one answer run, the repeats counted."""
    proposed = SqlProposed(question=_question(), sql="SELECT count(*) FROM videos", planned_ms=1)
    await _four_times(executor, proposed, executor.subjects.sql_proposed)


async def test_an_answer_lost_on_the_way_is_sent_again(executor: Executor) -> None:
    """A plan answered while nobody listened (its answer lost, as with a NATS node that died
    on the way to the gateway), then published again by the gateway's re-ask: the same
    answer is published again, and the database is not queried again."""
    planned = QueryPlanned(question=_question(), plan=PLAN, planned_ms=1)
    queries, replayed = executor.queries, executor.replayed
    await executor.publish(planned, executor.subjects.plan_ready, times=1)
    await until(lambda: executor.queries == queries + 1, timeout_s=10, what="the first run")
    answers = await executor.answers(planned.question)

    await executor.publish(planned, executor.subjects.plan_ready, times=1)

    answer = await _answer(answers)
    assert (answer.outcome, answer.question) == ("answered", planned.question)
    assert (executor.queries, executor.replayed) == (queries + 1, replayed + 1)


async def test_a_failed_answer_lets_the_question_run_again(broken: Executor) -> None:
    """When the first answer failed (the database is down), the plan published again runs
    again: a second answer, nothing counted as a repeat."""
    planned = QueryPlanned(question=_question(), plan=PLAN, planned_ms=1)
    answers = await broken.answers(planned.question)

    await broken.publish(planned, broken.subjects.plan_ready, times=1)
    first = await _answer(answers)
    await broken.publish(planned, broken.subjects.plan_ready, times=1)
    second = await _answer(answers)

    assert (first.outcome, second.outcome) == ("failed", "failed")
    assert broken.repeated == 0
