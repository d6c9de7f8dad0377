"""The executor's answer cache on real NATS and PostgreSQL: hits skip the database, a moved
dataset version is a miss, and the cache off or its bucket gone never costs a correct answer."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from opentelemetry import trace
from opentelemetry.propagate import inject
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from tally.contracts.cache import publish_versions
from tally.contracts.events import QueryPlanned, QuestionAnswered, QuestionAsked
from tally.contracts.streams import ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.semantic.plan import (
    Aggregate,
    Dataset,
    Dimension,
    Filter,
    Grouping,
    Measure,
    Op,
    QueryPlan,
)

tracer = trace.get_tracer("tests.executor.cache")
CREATOR = f"cache-{uuid4().hex[:12]}"
COUNT_SQL = "SELECT count(*) FROM videos WHERE creator_id = $1"
STAMP = datetime(2025, 11, 20, tzinfo=UTC)


def count_plan(interpretation: str = "videos of the creator") -> QueryPlan:
    """How many videos ``CREATOR`` has (a plan no other test asks)."""
    return QueryPlan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.COUNT),
        filters=(Filter(column="creator_id", op=Op.EQ, value=CREATOR),),
        interpretation=interpretation,
    )


async def add_video(database: asyncpg.Connection) -> None:
    """One more video of ``CREATOR``, written straight to the table (not through ingest)."""
    await database.execute(
        "INSERT INTO videos VALUES ($1, $2, $3, 10, 1, 0, 0, $3, $3)", uuid4(), CREATOR, STAMP
    )


@pytest.fixture(scope="module")
async def database(settings: CommonSettings) -> AsyncIterator[asyncpg.Connection]:
    """A connection for reference SQL; ``CREATOR`` starts with two videos, removed afterwards."""
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    for _ in range(2):
        await add_video(connection)
    yield connection
    await connection.execute("DELETE FROM videos WHERE creator_id = $1", CREATOR)
    await connection.close()


@pytest.fixture
async def nc(settings: CommonSettings, streams: None) -> AsyncIterator[Client]:
    connection = await nats.connect(settings.nats_url)
    yield connection
    await connection.close()


@dataclass
class Executor:
    """A running executor's metrics and the way to ask it a plan."""

    registry: CollectorRegistry
    nc: Client
    subjects: Subjects

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    async def ask(self, plan: QueryPlan) -> tuple[QuestionAnswered, str]:
        """Publish ``plan`` as planned; return the answer and the trace id it travelled in."""
        question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q")
        answers = await self.nc.subscribe(self.subjects.answer("cli", str(question.question_id)))
        planned = QueryPlanned(question=question, plan=plan, planned_ms=0.1)
        with tracer.start_as_current_span("test ask") as span:
            headers: dict[str, str] = {}
            inject(headers)
            await self.nc.publish(
                self.subjects.plan_ready, planned.model_dump_json().encode(), headers=headers
            )
            trace_id = span.get_span_context().trace_id
        message = await answers.next_msg(timeout=10)
        await answers.unsubscribe()
        return QuestionAnswered.model_validate_json(message.data), format(trace_id, "032x")


@asynccontextmanager
async def running_executor(
    settings: CommonSettings, nc: Client, **overrides: object
) -> AsyncIterator[Executor]:
    """An executor in this process with ``overrides`` on its settings (one at a time: they
    share the ``executor`` queue group)."""
    executor_settings = ExecutorSettings.model_validate(settings.model_dump() | overrides)
    registry = CollectorRegistry()
    reader = Reader(executor_settings)
    broker = create_broker_for(executor_settings, reader, registry=registry)
    await broker.start()
    await broker.connection.flush()  # its subscriptions are in place before anything is asked
    try:
        yield Executor(registry, nc, Subjects(settings.subject_prefix))
    finally:
        await broker.stop()
        await reader.close()


def database_spans(spans: InMemorySpanExporter, trace_id: str) -> list[str]:
    """Names of the database spans recorded in trace ``trace_id``."""
    return [
        span.name
        for span in spans.get_finished_spans()
        if span.context
        and format(span.context.trace_id, "032x") == trace_id
        and span.attributes
        and "db.statement" in span.attributes
    ]


async def test_a_plan_asked_again_is_answered_without_the_database(
    settings: CommonSettings,
    nc: Client,
    database: asyncpg.Connection,
    spans: InMemorySpanExporter,
) -> None:
    """The second ask of a plan, worded differently, is a hit: same value and SQL, its own
    interpretation, no query run (no database span, no query counted, elapsed 0 ms)."""
    async with running_executor(settings, nc) as executor:
        first, first_trace = await executor.ask(count_plan())
        second, second_trace = await executor.ask(count_plan("видео автора"))
        queries = executor.sample("tally_executor_queries_total", outcome="answered")
        hits = executor.sample("tally_executor_cache_total", result="hit")
    assert (first.outcome, first.cached) == ("answered", False)
    assert first.value == await database.fetchval(COUNT_SQL, CREATOR)
    assert database_spans(spans, first_trace) == ["SELECT"]
    assert (second.outcome, second.cached, second.elapsed_ms) == ("answered", True, 0.0)
    assert (second.value, second.sql, second.params) == (first.value, first.sql, first.params)
    assert second.interpretation == "видео автора"
    assert database_spans(spans, second_trace) == []
    assert (queries, hits) == (1, 1)


async def test_a_grouped_plan_asked_again_is_answered_from_the_cache_with_its_rows(
    settings: CommonSettings,
    nc: Client,
    database: asyncpg.Connection,
    spans: InMemorySpanExporter,
) -> None:
    """A top-N asked twice: the second answer is a hit with the same rows and no query run."""
    top = QueryPlan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.SUM, column="views_count"),
        filters=(Filter(column="creator_id", op=Op.EQ, value=CREATOR),),
        group_by=Grouping(by=Dimension.VIDEO, limit=5),
        interpretation="the creator's videos by views",
    )
    async with running_executor(settings, nc) as executor:
        first, _ = await executor.ask(top)
        second, second_trace = await executor.ask(top)
    expected = await database.fetch(
        "SELECT id::text, views_count FROM videos WHERE creator_id = $1"
        " ORDER BY views_count DESC, id LIMIT 5",
        CREATOR,
    )
    assert (first.cached, second.cached) == (False, True)
    assert [(row.label, row.value) for row in first.rows] == [tuple(r) for r in expected]
    assert (second.rows, second.row_count, second.value) == (first.rows, len(expected), None)
    assert database_spans(spans, second_trace) == []


async def test_a_moved_version_is_a_miss_with_the_new_data(
    settings: CommonSettings, nc: Client, database: asyncpg.Connection
) -> None:
    """After a dataset's version moves (what ingest does once a batch committed) the plan is
    answered from the database again, with the new count."""
    async with running_executor(settings, nc) as executor:
        await executor.ask(count_plan())
        assert (await executor.ask(count_plan()))[0].cached
        await add_video(database)
        bucket = await nc.jetstream().key_value(executor.subjects.answers_bucket)
        await publish_versions(bucket, [Dataset.VIDEOS])
        after, _ = await executor.ask(count_plan())
    assert (after.outcome, after.cached) == ("answered", False)
    assert after.value == await database.fetchval(COUNT_SQL, CREATOR)


async def test_with_the_cache_off_nothing_is_a_hit(
    settings: CommonSettings, nc: Client, database: asyncpg.Connection
) -> None:
    """ANSWER_CACHE=off: every ask runs the query."""
    async with running_executor(settings, nc, answer_cache=False) as executor:
        answers = [(await executor.ask(count_plan()))[0] for _ in range(3)]
        queries = executor.sample("tally_executor_queries_total", outcome="answered")
        lookups = executor.sample("tally_executor_cache_total", result="miss")
    expected = await database.fetchval(COUNT_SQL, CREATOR)
    assert [(a.value, a.cached) for a in answers] == [(expected, False)] * 3
    assert (queries, lookups) == (3, 0)


async def test_without_the_bucket_answers_stay_right_and_caching_resumes(
    settings: CommonSettings, nc: Client, database: asyncpg.Connection, subjects: Subjects
) -> None:
    """With the answers bucket deleted, plans are answered from the database (the cache
    errors are counted); once the bucket is back, answers are cached again."""
    expected = await database.fetchval(COUNT_SQL, CREATOR)
    js = nc.jetstream()
    async with running_executor(settings, nc) as executor:
        await executor.ask(count_plan())
        await js.delete_key_value(subjects.answers_bucket)
        try:
            without = [(await executor.ask(count_plan()))[0] for _ in range(3)]
            errors = executor.sample("tally_executor_cache_total", result="error")
        finally:
            await ensure_streams(js, subjects)
        outcomes = [(a.outcome, a.value, a.cached) for a in without]
        assert outcomes == [("answered", expected, False)] * 3
        assert errors >= 1
        assert await eventually_cached(executor, count_plan())


async def eventually_cached(executor: Executor, plan: QueryPlan, timeout_s: float = 10.0) -> bool:
    """Ask ``plan`` until an answer comes from the cache; False after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if (await executor.ask(plan))[0].cached:
            return True
        await asyncio.sleep(0.2)
    return False
