"""Ask-back across services: a reading picked in Telegram is answered by the real executor,
and the pick, the query and the reply are one trace. Real NATS and PostgreSQL, the real
aiogram gateway, a fake Bot API; the ambiguous answer is published here, as nl2sql would."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from uuid import UUID

import asyncpg
import nats
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tally.contracts.events import Choice, QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.gateway.app import running_gateway
from tally.gateway.config import GatewaySettings
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.semantic.plan import Aggregate, Dataset, Measure, QueryPlan
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

USER = 881


def count(dataset: Dataset) -> QueryPlan:
    measure = Measure(aggregate=Aggregate.COUNT)
    return QueryPlan(dataset=dataset, measure=measure, interpretation=f"rows of {dataset}")


@pytest.fixture(scope="module")
async def telegram(
    settings: CommonSettings, streams: None, spans: InMemorySpanExporter
) -> AsyncIterator[FakeTelegram]:
    """The executor and the gateway in this process; the fake Bot API the gateway polls."""
    base = settings.model_dump()
    async with AsyncExitStack() as services, FakeTelegram() as fake:
        reader = Reader(ExecutorSettings(**base))
        services.push_async_callback(reader.close)
        executor = executor_broker(ExecutorSettings(**base), reader)
        await executor.start()
        services.push_async_callback(executor.stop)
        gateway = GatewaySettings(**base, bot_token=DEFAULT_TOKEN, telegram_api_base=fake.base_url)
        await services.enter_async_context(running_gateway(gateway))
        yield fake


async def test_picked_reading_is_answered_in_one_trace(
    telegram: FakeTelegram,
    settings: CommonSettings,
    subjects: Subjects,
    spans: InMemorySpanExporter,
) -> None:
    """Pressing "snapshots" under "How many rows?" gets the snapshot count, with 👍/👎, in
    the trace the "telegram pick" span started."""
    question = QuestionAsked(
        channel="telegram", chat_id=USER, user_id=USER, language="en", text="How many rows?"
    )
    answer = QuestionAnswered(
        question=question,
        outcome="ambiguous",
        reason="Rows of which table?",
        choices=(
            Choice(label="videos", plan=count(Dataset.VIDEOS)),
            Choice(label="snapshots", plan=count(Dataset.SNAPSHOTS)),
        ),
    )
    client = await nats.connect(settings.nats_url)
    await client.publish(
        subjects.answer("telegram", str(question.question_id)), answer.model_dump_json().encode()
    )
    await client.close()
    [offer] = await telegram.wait_sent(chat_id=USER)
    data = offer.reply_markup["inline_keyboard"][1][0]["callback_data"]  # type: ignore[index]

    telegram.push_callback(USER, USER, data)
    [reply] = await telegram.wait_sent(chat_id=USER, timeout=10)

    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    snapshots = await database.fetchval("SELECT count(*) FROM video_snapshots")
    await database.close()
    assert reply.text.splitlines()[0] == f"{snapshots:,}"
    assert reply.reply_markup and reply.reply_markup["inline_keyboard"][0][0]["text"] == "👍"
    finished = spans.get_finished_spans()
    [pick] = [span for span in finished if _attribute(span, "picked_from") == question.question_id]
    picked = _attribute(pick, "question_id")
    [replied] = [
        span
        for span in finished
        if span.name == "telegram reply" and _attribute(span, "question_id") == picked
    ]
    assert replied.context.trace_id == pick.context.trace_id


def _attribute(span: ReadableSpan, name: str) -> UUID | None:
    value = (span.attributes or {}).get(f"tally.{name}")
    return UUID(str(value)) if value else None
