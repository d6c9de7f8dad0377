"""The admins' /analytics, /metrics and /health end to end: the real gateway (fake Bot API) asks
the real executor over real NATS, which reads PostgreSQL as ``tally_ops`` and JetStream.

Figures are checked against SQL and JetStream queries made here; non-admins are refused with
nothing asked of the executor; an executor that does not answer is said to be so.
"""

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import nats
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import create_async_engine

from tally.contracts.ops_reports import OpsReportRequested
from tally.contracts.streams import stream_configs
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.app import ops_reader
from tally.executor.config import ExecutorSettings
from tally.executor.domain.ops_sections import ms, share, size
from tally.executor.runner import Reader
from tally.gateway.app import Gateway, running_gateway
from tally.gateway.config import GatewaySettings
from tally.gateway.telegram.admins import REFUSAL
from tally.infra.settings import CommonSettings, to_asyncpg_url
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.factories.chat_rows import ChatRows, remove_chats
from tests.factories.ops_rows import OpsRows
from tests.factories.reference import ReferenceSql

ADMIN = 95_001
STRANGER = 95_002
GROUP = -100_800_001
NOW = datetime.now(UTC)
H = timedelta(hours=1)
WINDOW = "asked_at > now() - interval '24 hours'"


@dataclass
class Stack:
    """What the tests drive and look at."""

    telegram: FakeTelegram
    gateway: Gateway
    executor: NatsBroker
    asked: list[OpsReportRequested]
    """Every ops report request seen on the bus (a plain subscriber beside the executor)."""
    reference: ReferenceSql
    nc: Client


@pytest.fixture(scope="module")
async def stack(settings: CommonSettings, streams: None) -> AsyncIterator[Stack]:
    """Questions of three people, a group's messages, the executor (with its ops pool) and the
    gateway with ADMIN in ADMIN_USER_IDS; rows removed afterwards."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    async with engine.begin() as connection:
        rows = OpsRows(connection)
        await rows.user(95_101, first_seen_at=NOW - 3 * H)
        count = ("videos", "count")
        await rows.question(95_101, NOW - H, total_ms=210, elapsed_ms=12, plan=count, feedback="up")
        await rows.question(95_101, NOW - 2 * H, outcome="refused", total_ms=35, reason="Unclear.")
        await rows.question(95_102, NOW - 3 * H, total_ms=640, plan=count, feedback="down")
        await rows.question(95_103, NOW - 26 * H, total_ms=90, plan=count)
        chat = ChatRows(connection, GROUP)
        await chat.create(title="Ops group", first_seen_at=NOW - 40 * 24 * H)
        for message_id, age in enumerate([H, 5 * H, 30 * H], start=1):
            await chat.message(message_id, 95_101, NOW - age)
    base = settings.model_dump()
    async with AsyncExitStack() as services, FakeTelegram() as fake:
        executor_settings = ExecutorSettings(**base)
        reader, ops = Reader(executor_settings), ops_reader(executor_settings)
        services.push_async_callback(reader.close)
        services.push_async_callback(ops.close)
        executor = executor_broker(executor_settings, reader, ops=ops)
        await executor.start()
        services.push_async_callback(executor.stop)
        gateway_settings = GatewaySettings(
            **base,
            bot_token=DEFAULT_TOKEN,
            telegram_api_base=fake.base_url,
            admin_user_ids=[ADMIN],
            throttle_interval_s=0,
            group_throttle_interval_s=0,
        )
        running = await services.enter_async_context(running_gateway(gateway_settings))
        nc = await nats.connect(settings.nats_url)
        services.push_async_callback(nc.close)
        asked: list[OpsReportRequested] = []

        async def spy(message: Msg) -> None:
            asked.append(OpsReportRequested.model_validate_json(message.data))

        await nc.subscribe(Subjects(settings.subject_prefix).ops_report, cb=spy)
        await nc.flush()
        yield Stack(fake, running, executor, asked, ReferenceSql(engine), nc)
    await rows.remove(engine)
    await remove_chats(engine, [GROUP], [], chat.partitions)
    await engine.dispose()


async def _ask(stack: Stack, text: str, *, user: int = ADMIN, chat: int | None = None) -> str:
    """The bot's reply to ``text`` sent by ``user`` (privately, or in group ``chat``)."""
    if chat is None:
        stack.telegram.push_message(user, user, text)
    else:
        stack.telegram.push_group_message(chat, user, text)
    [reply] = await stack.telegram.wait_sent(count=1, timeout=15, chat_id=chat or user)
    return reply.text


async def test_analytics_as_admin_counts_the_last_day(stack: Stack) -> None:
    """/analytics: questions, success rate, DAU/MAU, feedback, top question type and chat
    messages of the last 24 h, as SQL written here counts them."""
    text = await _ask(stack, "/analytics")
    sql = stack.reference
    total = await sql.value(f"SELECT count(*) FROM questions WHERE {WINDOW}")
    answered = await sql.value(
        f"SELECT count(*) FROM questions WHERE {WINDOW} AND outcome = 'answered'"
    )
    dau = await sql.value(f"SELECT count(DISTINCT user_id) FROM questions WHERE {WINDOW}")
    mau = await sql.value(
        "SELECT count(DISTINCT user_id) FROM questions WHERE asked_at > now() - interval '30 days'"
    )
    up = await sql.value(f"SELECT count(*) FROM questions WHERE {WINDOW} AND feedback = 'up'")
    down = await sql.value(f"SELECT count(*) FROM questions WHERE {WINDOW} AND feedback = 'down'")
    messages = await sql.value(
        "SELECT count(*) FROM messages WHERE sent_at > now() - interval '24 hours'"
    )
    assert total >= 3 and dau >= 2 and messages >= 2
    assert "<b>Analytics</b>" in text
    assert f"• Questions: {total:,}\n" in text
    assert f"• Success rate: {share(answered, total)} ({answered:,} of {total:,})" in text
    assert f"• DAU: {dau:,}\n" in text and f"• MAU: {mau:,}\n" in text
    assert f"• Feedback: 👍 {up:,} · 👎 {down:,}" in text
    assert "• videos · count: " in text
    assert f"• Chat messages: {messages:,}\n" in text
    assert len(text) <= 4096


async def test_admin_commands_work_in_groups(stack: Stack) -> None:
    """In a group the admin's /analytics@tally_bot is answered there, not taken for chat."""
    text = await _ask(stack, "/analytics@tally_bot", chat=GROUP)
    assert "<b>Analytics</b>" in text and "• Questions: " in text


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def test_metrics_performance_latency(stack: Stack) -> None:
    """/metrics (performance by default): latency percentiles of the day's total_ms."""
    text = await _ask(stack, "/metrics")
    rows = await stack.reference.rows(f"SELECT total_ms FROM questions WHERE {WINDOW}")
    totals = [row["total_ms"] for row in rows]
    assert "<b>Metrics: performance</b>" in text
    assert f"• Latency p50: {ms(_percentile(totals, 0.5))}\n" in text
    assert f"• Latency p95: {ms(_percentile(totals, 0.95))}\n" in text
    assert f"• Latency max: {ms(max(totals))}\n" in text
    assert "• Hit share: " in text


async def test_metrics_business_and_engagement(stack: Stack) -> None:
    """/metrics business counts questions by outcome; engagement has WAU and new users."""
    business = await _ask(stack, "/metrics business")
    by_outcome = await stack.reference.rows(
        f"SELECT outcome, count(*) AS n FROM questions WHERE {WINDOW} GROUP BY 1"
    )
    for row in by_outcome:
        assert f"• {row['outcome']}: {row['n']:,}\n" in business + "\n"
    engagement = await _ask(stack, "/metrics ENGAGEMENT")
    wau = await stack.reference.value(
        "SELECT count(DISTINCT user_id) FROM questions WHERE asked_at > now() - interval '7 days'"
    )
    new = await stack.reference.value(
        "SELECT count(*) FROM bot_users WHERE first_seen_at > now() - interval '24 hours'"
    )
    assert f"• WAU: {wau:,}\n" in engagement and f"• New users: {new:,}\n" in engagement


async def test_metrics_system_shows_jetstream_and_postgres(
    stack: Stack, settings: CommonSettings
) -> None:
    """/metrics system: each stream's messages and bytes and each consumer's backlog as
    JetStream reports them, and the database's connections."""
    text = await _ask(stack, "/metrics system")
    js = stack.nc.jetstream()
    for config in stream_configs(Subjects(settings.subject_prefix)):
        state = (await js.stream_info(config.name or "")).state
        assert f"• {config.name}: {state.messages:,} msgs · {size(state.bytes)}\n" in text
        for consumer in (await js.consumers_info(config.name or ""))[:3]:
            pending = f"pending {consumer.num_pending:,} · ack pending {consumer.num_ack_pending:,}"
            assert f"• {config.name}/{consumer.name}: {pending}" in text
    assert "<b>PostgreSQL</b>" in text and "• Connections: " in text


async def test_metrics_with_an_unknown_category_replies_the_usage(stack: Stack) -> None:
    """/metrics money: the usage line with the four categories, nothing asked."""
    before = len(stack.asked)
    text = await _ask(stack, "/metrics money")
    assert text == "Usage: /metrics [performance|business|engagement|system]"
    assert len(stack.asked) == before


async def test_health_lists_every_component(stack: Stack) -> None:
    """/health: the gateway's line, then the executor, PostgreSQL, the migration and the
    JetStream streams, all up."""
    text = await _ask(stack, "/health")
    version = await stack.reference.value("SELECT version_num FROM alembic_version")
    assert "• gateway: up · answering\n" in text
    assert "• executor: up · " in text and "• postgresql: up · " in text
    assert "• migration: up · " in text and f"migration {version}" in text
    assert "• jetstream: up · " in text and "4 streams" in text


@pytest.mark.parametrize("command", ["/analytics", "/health", "/metrics system"])
async def test_non_admins_are_refused_and_nothing_is_asked(stack: Stack, command: str) -> None:
    """A non-admin gets the refusal, privately and in a group, and no report is requested."""
    before = len(stack.asked)
    assert await _ask(stack, command, user=STRANGER) == REFUSAL
    assert await _ask(stack, command, user=STRANGER, chat=GROUP) == REFUSAL
    await asyncio.sleep(0.2)
    assert len(stack.asked) == before


async def test_commands_are_counted_by_name(stack: Stack) -> None:
    """tally_commands_total counts every command by name, unknown ones as ``other``, a command
    for another bot not at all."""
    registry = stack.gateway.registry

    def counted(name: str) -> float:
        return registry.get_sample_value("tally_commands_total", {"command": name}) or 0.0

    health, other = counted("health"), counted("other")
    await _ask(stack, "/health")
    await _ask(stack, "/frobnicate")
    stack.telegram.push_group_message(GROUP, ADMIN, "/stats@other_bot")
    await stack.telegram.assert_nothing_sent(0.5, chat_id=GROUP)
    assert counted("health") == health + 1
    assert counted("other") == other + 1
    assert counted("stats") == 0


async def test_an_executor_that_does_not_answer_is_said_to(stack: Stack) -> None:
    """With the executor gone, /health still answers with the gateway's line and says the
    executor is not answering; /analytics says so too. (Runs last: it stops the executor.)"""
    await stack.executor.stop()
    health = await _ask(stack, "/health")
    assert "• gateway: up · answering\n" in health
    assert "• executor: not answering" in health
    assert "executor: not answering" in await _ask(stack, "/analytics")
