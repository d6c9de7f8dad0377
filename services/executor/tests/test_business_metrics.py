"""The executor's business metrics on real NATS and PostgreSQL: each answer it publishes is
counted once with its latency, its SQL spans carry no bound value, and DAU/WAU/MAU come
from the questions log."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from tally.contracts.events import QueryPlanned, QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.executor.active_users import refresh
from tally.executor.app import create_broker_for
from tally.executor.config import ExecutorSettings
from tally.executor.metrics import ExecutorMetrics
from tally.executor.runner import Reader
from tally.infra.db.reader import CONNECT_TIMEOUT_S
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.semantic.plan import Aggregate, Dataset, Filter, Measure, Op, QueryPlan

CREATOR = f"metrics-{uuid4().hex[:12]}"
HOPS_S = 5.0
"""The test's wait for an answer beyond the executor's own worst case (connecting, then the
statement's deadline, after which it answers with the reason): a slow PostgreSQL moment then
fails with that reason, not a bare timeout (a CI run waited 10 s, exactly that worst case)."""


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def nc(settings: CommonSettings, streams: None) -> AsyncIterator[Client]:
    connection = await nats.connect(settings.nats_url)
    yield connection
    await connection.close()


async def test_each_answer_is_counted_once_with_its_latency(
    settings: CommonSettings, nc: Client, spans: InMemorySpanExporter
) -> None:
    """Two planned questions (en, ru): two answers counted by outcome, language and engine,
    two latencies observed; the SQL span's statement has a placeholder, not the creator."""
    executor_settings = ExecutorSettings(**settings.model_dump(), answer_cache=False)
    registry = CollectorRegistry()
    reader = Reader(executor_settings)
    broker = create_broker_for(executor_settings, reader, registry=registry)
    await broker.start()
    await broker.connection.flush()
    subjects = Subjects(settings.subject_prefix)
    wait_s = CONNECT_TIMEOUT_S + executor_settings.statement_timeout_ms / 1000 + HOPS_S
    plan = QueryPlan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.COUNT),
        filters=(Filter(column="creator_id", op=Op.EQ, value=CREATOR),),
        interpretation="videos of the creator",
    )
    try:
        for language in ("en", "ru"):
            question = QuestionAsked(
                channel="cli", chat_id=1, user_id=1, language=language, text="q"
            )
            inbox = await nc.subscribe(subjects.answer("cli", str(question.question_id)))
            planned = QueryPlanned(question=question, plan=plan, planned_ms=0.1)
            await nc.publish(subjects.plan_ready, planned.model_dump_json().encode())
            answer = QuestionAnswered.model_validate_json((await inbox.next_msg(wait_s)).data)
            await inbox.unsubscribe()
            assert answer.outcome == "answered", answer.reason
    finally:
        await broker.stop()
        await reader.close()
    for language in ("en", "ru"):
        labels = {"outcome": "answered", "language": language, "engine": "builtin"}
        assert _value(registry, "tally_questions_total", **labels) == 1
    assert _value(registry, "tally_answer_latency_seconds_count", engine="builtin") == 2
    statements = [
        str((span.attributes or {}).get("db.statement"))
        for span in spans.get_finished_spans()
        if "FROM videos \nWHERE videos.creator_id"
        in str((span.attributes or {}).get("db.statement"))
    ]  # this plan's statement: other tests' statements are in the same exporter
    assert statements and all(CREATOR not in text and "$1" in text for text in statements)


async def _ask_at(connection: asyncpg.Connection, user_id: int, ago: timedelta) -> None:
    asked_at = datetime.now(UTC) - ago
    await connection.execute(
        "INSERT INTO questions (id, channel, chat_id, user_id, language, text, outcome,"
        " row_count, elapsed_ms, total_ms, asked_at, answered_at)"
        " VALUES ($1, 'cli', 0, $2, 'en', 'q', 'answered', 0, 0, 0, $3, $3)",
        uuid4(),
        user_id,
        asked_at,
    )


async def test_active_users_count_distinct_askers_per_window(settings: CommonSettings) -> None:
    """Users who last asked 1 h, 3 days (twice), 20 days and 40 days ago add 1, 2 and 3 to
    DAU, WAU and MAU."""
    executor_settings = ExecutorSettings(**settings.model_dump())
    registries = CollectorRegistry(), CollectorRegistry()
    before, after = (ExecutorMetrics(registry) for registry in registries)
    base = 9_000_000_000 + int(uuid4().int % 1_000_000) * 10
    asked = [(0, 1), (1, 72), (1, 73), (2, 480), (3, 960)]  # (user, hours ago)
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    try:
        await refresh(executor_settings, before)
        for user, hours in asked:
            await _ask_at(connection, base + user, timedelta(hours=hours))
        await refresh(executor_settings, after)
    finally:
        await connection.execute("DELETE FROM questions WHERE user_id >= $1", base)
        await connection.close()

    def added(window: str) -> float:
        now, then = (_value(r, "tally_active_users", window=window) for r in registries[::-1])
        return now - then

    assert (added("1d"), added("7d"), added("30d")) == (1, 2, 3)
