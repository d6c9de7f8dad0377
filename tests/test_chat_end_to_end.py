"""Issue 4 end to end: a group conversation driven through the fake Bot API server is
captured by the real gateway, stored by ingest through JetStream, and ends up exactly in the
dashboard's numbers and in the answers to questions asked in that group (real NATS and
PostgreSQL, nl2sql, executor, the dashboard app). Expected figures are counted here from the
conversation itself, not read back from the tables."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

from tally.dashboard.app import create_app as dashboard_app
from tally.dashboard.config import DashboardSettings
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.gateway.app import running_gateway
from tally.gateway.config import GatewaySettings
from tally.infra.db.session import create_engine
from tally.infra.settings import CommonSettings
from tally.ingest.app import create_broker_for as ingest_broker
from tally.ingest.app import create_database_engine
from tally.ingest.config import IngestSettings
from tally.nl2sql.app import create_broker_for as nl2sql_broker
from tally.nl2sql.config import Nl2sqlSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

GROUP = -100_777_001
TOKEN = "end-to-end-dashboard-token-01"
# Who says what, in order: (user, text). Users 601..604; 605 joins and never writes.
CONVERSATION = [
    (601, "morning all"),
    (602, "hi! #monday plans?"),
    (601, "see https://example.org and @bob"),
    (603, "I'll be late"),
    (601, "ok"),
    (604, "hello from the new guy"),
    (602, "welcome aboard"),
    (601, "three more words"),
]
JOINS = [604, 605]
LEAVES = [603]


@dataclass
class Stack:
    telegram: FakeTelegram
    dashboard: httpx.AsyncClient


async def _until(check: object, timeout: float = 15) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the conversation was not stored in time"
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def stack(
    settings: CommonSettings, streams: None, spans: InMemorySpanExporter
) -> AsyncIterator[Stack]:
    """Every service in this process; the conversation played through the fake Bot API and
    waited for until ingest stored all of it."""
    base = settings.model_dump()
    async with AsyncExitStack() as services, FakeTelegram() as telegram:
        ingest_settings = IngestSettings(**base)
        write_engine = create_database_engine(ingest_settings)
        services.push_async_callback(write_engine.dispose)
        reader = Reader(ExecutorSettings(**base))
        services.push_async_callback(reader.close)
        for broker in (
            ingest_broker(ingest_settings, engine=write_engine),
            nl2sql_broker(Nl2sqlSettings(**base)),
            executor_broker(ExecutorSettings(**base), reader),
        ):
            await broker.start()
            services.push_async_callback(broker.stop)
        gateway = GatewaySettings(
            **base, bot_token=DEFAULT_TOKEN, telegram_api_base=telegram.base_url
        )
        await services.enter_async_context(running_gateway(gateway))
        app = dashboard_app(DashboardSettings(**base, admin_api_token=TOKEN))
        await services.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        client = await services.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://dashboard")
        )
        client.headers["X-Admin-Token"] = TOKEN
        for user in JOINS:
            telegram.push_member(GROUP, user, "join")
        for message_id, (user, words) in enumerate(CONVERSATION, start=1):
            telegram.push_group_message(GROUP, user, words, message_id=message_id)
        for user in LEAVES:
            telegram.push_member(GROUP, user, "leave")
        engine = create_engine(settings.database_url)
        services.push_async_callback(engine.dispose)

        async def stored() -> bool:
            async with engine.connect() as connection:
                found = await connection.scalar(
                    text(
                        "SELECT (SELECT count(*) FROM messages WHERE chat_id = :c)"
                        " + (SELECT count(*) FROM member_events WHERE chat_id = :c)"
                    ),
                    {"c": GROUP},
                )
            return found == len(CONVERSATION) + len(JOINS) + len(LEAVES)

        await _until(stored)
        yield Stack(telegram, client)


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


async def test_dashboard_summary_equals_the_conversation(stack: Stack) -> None:
    """Messages, active people, joins and leaves of today are those of the conversation."""
    today = _today()
    response = await stack.dashboard.get(
        f"/api/chats/{GROUP}/summary", params={"from": today, "to": today}
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["messages"]["value"] == len(CONVERSATION)
    assert summary["active_users"]["value"] == len({user for user, _ in CONVERSATION})
    assert summary["new_members"]["value"] == len(JOINS)
    assert summary["left_members"]["value"] == len(LEAVES)


async def test_dashboard_users_rank_the_writers(stack: Stack) -> None:
    """The users page ranks by messages: 601 wrote four, 602 two."""
    today = _today()
    response = await stack.dashboard.get(
        f"/api/chats/{GROUP}/users", params={"from": today, "to": today, "size": 10}
    )
    assert response.status_code == 200, response.text
    ranked = [(item["user_id"], item["messages"]) for item in response.json()["items"]]
    counts = Counter(user for user, _ in CONVERSATION)
    assert ranked == sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))


async def _ask(stack: Stack, user: int, question: str) -> str:
    stack.telegram.push_group_message(GROUP, user, f"/ask {question}")
    [reply] = await stack.telegram.wait_sent(count=1, timeout=15, chat_id=GROUP)
    return reply.text


async def test_questions_in_the_group_are_answered_from_its_data(stack: Stack) -> None:
    """ "How many messages were sent here today?" counts the conversation; "who wrote the
    most today?" names its top writer; "how many people joined today?" its joins."""
    messages = await _ask(stack, 601, "How many messages were sent here today?")
    assert messages.splitlines()[0] == str(len(CONVERSATION))
    top = await _ask(stack, 602, "who wrote the most today?")
    leader, count = Counter(user for user, _ in CONVERSATION).most_common(1)[0]
    assert top.splitlines()[0].endswith(f"— {count}")
    assert f"User{leader}" in top.splitlines()[0]
    joined = await _ask(stack, 603, "how many people joined today?")
    assert joined.splitlines()[0] == str(len(JOINS))
