"""End to end on real NATS and PostgreSQL: the sample imported through ingest, every question
of issue 2 asked over the bus (and through the real aiogram gateway), each answer checked
against SQL written independently here, one trace per question."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tally.alerts.app import create_broker_for as alerts_broker
from tally.alerts.config import AlertsSettings
from tally.cli.client import Asker
from tally.cli.importer import import_videos
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.gateway.app import running_gateway
from tally.gateway.config import GatewaySettings
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.ingest.app import create_broker_for as ingest_broker
from tally.ingest.app import create_database_engine
from tally.ingest.config import IngestSettings
from tally.nl2sql.app import create_broker_for as nl2sql_broker
from tally.nl2sql.config import Nl2sqlSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "videos.json.gz"
UTC_DAY = "(created_at AT TIME ZONE 'UTC')::date"
PUBLISHED_DAY = "(video_created_at AT TIME ZONE 'UTC')::date"
EARLY_NOVEMBER = f"{PUBLISHED_DAY} BETWEEN '2025-11-01' AND '2025-11-05'"

# question -> reference SQL ($1 is the busiest creator of 1-5 Nov 2025, {creator} in the text)
QUESTIONS = {
    "How many videos are in the system?": "SELECT count(*) FROM videos",
    "How many videos got more than 100,000 views?": "SELECT count(*) FROM videos WHERE views_count > 100000",
    "How many total likes do all videos have?": "SELECT sum(likes_count) FROM videos",
    "How many videos were published in November 2025?": f"SELECT count(*) FROM videos WHERE {PUBLISHED_DAY} BETWEEN '2025-11-01' AND '2025-11-30'",
    "How many videos gained views on November 28, 2025?": "SELECT count(DISTINCT video_id) FROM video_snapshots"
    f" WHERE delta_views_count > 0 AND {UTC_DAY} = '2025-11-28'",
    "What was the total view growth on November 27, 2025?": f"SELECT coalesce(sum(delta_views_count), 0) FROM video_snapshots WHERE {UTC_DAY} = '2025-11-27'",
    "How many videos does creator abc123 have?": "SELECT count(*) FROM videos WHERE creator_id = 'abc123'",
    "How many videos does creator {creator} have?": "SELECT count(*) FROM videos WHERE creator_id = $1",
    "How many videos from creator {creator} were published between November 1-5, 2025?": f"SELECT count(*) FROM videos WHERE creator_id = $1 AND {EARLY_NOVEMBER}",
    "Сколько всего видео есть в системе?": "SELECT count(*) FROM videos",
    "Сколько видео у креатора с id {creator} вышло с 1 ноября 2025 по 5 ноября 2025 включительно?": f"SELECT count(*) FROM videos WHERE creator_id = $1 AND {EARLY_NOVEMBER}",
    "Сколько видео набрало больше 100 000 просмотров за всё время?": "SELECT count(*) FROM videos WHERE views_count > 100000",
    "На сколько просмотров в сумме выросли все видео 28 ноября 2025?": f"SELECT coalesce(sum(delta_views_count), 0) FROM video_snapshots WHERE {UTC_DAY} = '2025-11-28'",
    "Сколько разных видео получали новые просмотры 27 ноября 2025?": "SELECT count(DISTINCT video_id) FROM video_snapshots"
    f" WHERE delta_views_count > 0 AND {UTC_DAY} = '2025-11-27'",
}


@dataclass
class Stack:
    """The running services, a direct database connection for reference SQL, the sample's creator."""

    database: asyncpg.Connection
    telegram: FakeTelegram
    creator: str

    async def expected(self, sql: str) -> int:
        args = [self.creator] if "$1" in sql else []
        return int(await self.database.fetchval(sql, *args))


@pytest.fixture(scope="module")
async def stack(
    settings: CommonSettings, streams: None, spans: InMemorySpanExporter
) -> AsyncIterator[Stack]:
    """ingest, nl2sql, executor, alerts and the gateway in this process, on the real broker,
    with the sample imported through ingest into emptied tables."""
    base = settings.model_dump()
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    await database.execute("TRUNCATE video_snapshots, videos")
    async with AsyncExitStack() as services, FakeTelegram() as telegram:
        ingest_settings = IngestSettings(**base)
        write_engine = create_database_engine(ingest_settings)
        reader = Reader(ExecutorSettings(**base))
        services.push_async_callback(write_engine.dispose)
        services.push_async_callback(reader.close)
        brokers = [
            ingest_broker(ingest_settings, engine=write_engine),
            nl2sql_broker(Nl2sqlSettings(**base)),
            executor_broker(ExecutorSettings(**base), reader),
            alerts_broker(AlertsSettings(**base))[0],
        ]
        for broker in brokers:
            await broker.start()
            services.push_async_callback(broker.stop)
        gateway_settings = GatewaySettings(
            **base, bot_token=DEFAULT_TOKEN, telegram_api_base=telegram.base_url
        )
        await services.enter_async_context(running_gateway(gateway_settings))
        report = await import_videos(SAMPLE, settings)
        assert report.videos > 0 and not report.skipped
        creator = await database.fetchval(
            f"SELECT creator_id FROM videos WHERE {EARLY_NOVEMBER}"
            " GROUP BY creator_id ORDER BY count(*) DESC, creator_id LIMIT 1"
        )
        yield Stack(database, telegram, creator)
    await database.close()


@pytest.mark.parametrize("question", list(QUESTIONS))
async def test_every_question_gets_the_exact_number(
    stack: Stack, settings: CommonSettings, question: str
) -> None:
    """Asked over the bus, each question's answer equals the reference SQL's result."""
    async with Asker(settings) as asker:
        asked = await asker.ask(question.format(creator=stack.creator))
    answer = asked.answer
    assert answer.outcome == "answered", answer.reason
    assert answer.value == await stack.expected(QUESTIONS[question])
    assert answer.sql and stack.creator not in answer.sql
    assert answer.interpretation


async def test_sample_answers_are_not_trivial(stack: Stack) -> None:
    """The sample makes the checks above meaningful: nothing expected is zero by accident."""
    nonzero = [q for q, sql in QUESTIONS.items() if "abc123" not in q]
    values = [await stack.expected(QUESTIONS[q]) for q in nonzero]
    assert all(value > 0 for value in values), dict(zip(nonzero, values, strict=True))


async def test_telegram_question_gets_the_count_with_separators(stack: Stack) -> None:
    """Through the real aiogram gateway and a fake Bot API: the reply has 1,234-style numbers."""
    stack.telegram.push_message(
        chat_id=501, user_id=501, text="How many total likes do all videos have?"
    )
    [reply] = await stack.telegram.wait_sent(count=1, timeout=10, chat_id=501)
    likes = await stack.expected(QUESTIONS["How many total likes do all videos have?"])
    assert reply.text.startswith(f"{likes:,}\n")
    assert "Counted" in reply.text


async def test_russian_telegram_question_is_answered_in_russian(stack: Stack) -> None:
    """A Russian question gets Russian digit grouping (U+202F) and a Russian statement."""
    stack.telegram.push_message(
        chat_id=502, user_id=502, text="Сколько всего видео есть в системе?"
    )
    [reply] = await stack.telegram.wait_sent(count=1, timeout=10, chat_id=502)
    count = await stack.expected("SELECT count(*) FROM videos")
    assert reply.text.startswith(f"{count:,}".replace(",", "\u202f"))
    assert "Посчитано" in reply.text


async def test_one_question_is_one_trace(stack: Stack, spans: InMemorySpanExporter) -> None:
    """Gateway receive, nl2sql, executor (with its SQL span) and the reply share one trace,
    each span's parent being in that trace. (A question no other test asks, so that the
    executor runs SQL rather than answering from its cache.)"""
    spans.clear()
    question = "How many videos got more than 123,457 views?"
    stack.telegram.push_message(chat_id=503, user_id=503, text=question)
    await stack.telegram.wait_sent(count=1, timeout=10, chat_id=503)
    # The reply's span ends when sendMessage returns, a moment after the fake server saw it.
    for _ in range(50):
        finished = spans.get_finished_spans()
        [receive] = [s for s in finished if s.name == "telegram receive"]
        trace_id = receive.context.trace_id
        in_trace = [s for s in finished if s.context.trace_id == trace_id]
        names = {s.name for s in in_trace}
        if "telegram reply" in names:
            break
        await asyncio.sleep(0.1)
    assert {"telegram receive", "telegram reply", "SELECT"} <= names
    for subject in (".questions.asked", ".plans.ready", ".answers.telegram."):
        assert any(subject in s.name and "process" in s.name for s in in_trace), (subject, names)
    ids = {s.context.span_id for s in in_trace}
    assert all(s.parent is None or s.parent.span_id in ids for s in in_trace)
    assert sum(1 for s in in_trace if s.parent is None) == 1


async def test_unknown_question_is_refused_with_examples(
    settings: CommonSettings, stack: Stack
) -> None:
    """A question outside the catalog gets a refusal and examples, never a guessed number."""
    async with Asker(settings) as asker:
        asked = await asker.ask("What's the weather in Paris?")
    assert asked.answer.outcome == "refused"
    assert asked.answer.value is None
    assert asked.answer.reason and len(asked.answer.examples) >= 3


async def test_questions_are_logged_by_ingest(settings: CommonSettings, stack: Stack) -> None:
    """Each answer lands in the questions log (written by ingest from the ACTIVITY stream)."""
    async with Asker(settings) as asker:
        asked = await asker.ask("How many videos are in the system?")
    question_id = asked.answer.question.question_id
    for _ in range(50):
        row = await stack.database.fetchrow(
            "SELECT outcome, value, sql FROM questions WHERE id = $1", question_id
        )
        if row:
            break
        await asyncio.sleep(0.1)
    assert row is not None
    assert (row["outcome"], row["value"]) == ("answered", asked.answer.value)


async def test_top_creators_are_ranked_in_telegram(stack: Stack) -> None:
    """ "Top 3 creators by views" through every service: a numbered list equal to the
    reference ranking (ties by id), then what was counted."""
    stack.telegram.push_message(chat_id=511, user_id=511, text="Top 3 creators by views")
    [reply] = await stack.telegram.wait_sent(count=1, timeout=10, chat_id=511)
    expected = await stack.database.fetch(
        "SELECT creator_id, sum(views_count) AS views FROM videos"
        " GROUP BY creator_id ORDER BY views DESC, creator_id LIMIT 3"
    )
    lines = [f"{rank}. {row[0]} — {row[1]:,}" for rank, row in enumerate(expected, start=1)]
    assert reply.text.splitlines() == [*lines, "Counted: top 3 creators by views"]


async def test_russian_daily_series_over_the_bus(stack: Stack, settings: CommonSettings) -> None:
    """A per-day series asked in Russian has every day of the range, each equal to the
    reference sum of that day's deltas (0 for a quiet day)."""
    async with Asker(settings) as asker:
        asked = await asker.ask("прирост просмотров по дням с 20 по 30 ноября 2025")
    expected = await stack.database.fetch(
        "SELECT to_char(d, 'YYYY-MM-DD'), coalesce(sum(s.delta_views_count), 0)"
        " FROM generate_series('2025-11-20'::date, '2025-11-30'::date, interval '1 day') d"
        f" LEFT JOIN video_snapshots s ON {UTC_DAY} = d::date GROUP BY d ORDER BY d"
    )
    assert [(row.label, row.value) for row in asked.answer.rows] == [tuple(r) for r in expected]


async def test_ambiguous_question_is_asked_back_with_buttons(stack: Stack) -> None:
    """ "How many views in November 2025?" has two readings: the gateway offers both as
    buttons; pressing the second (growth during November) gets the exact sum of deltas."""
    stack.telegram.push_message(chat_id=512, user_id=512, text="How many views in November 2025?")
    [offer] = await stack.telegram.wait_sent(count=1, timeout=10, chat_id=512)
    assert "Which did you mean?" in offer.text
    assert offer.reply_markup is not None
    buttons = [row[0] for row in offer.reply_markup["inline_keyboard"]]
    assert len(buttons) == 2

    stack.telegram.push_callback(512, 512, buttons[1]["callback_data"])
    [reply] = await stack.telegram.wait_sent(count=1, timeout=10, chat_id=512)
    growth = await stack.expected(
        "SELECT coalesce(sum(delta_views_count), 0) FROM video_snapshots"
        f" WHERE {UTC_DAY} BETWEEN '2025-11-01' AND '2025-11-30'"
    )
    assert reply.text.splitlines()[0] == f"{growth:,}"
    assert "growth" in reply.text
