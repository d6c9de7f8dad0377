"""Chat A's data stays in chat A, on real PostgreSQL and NATS.

Chat A stores message text; its text, its title, its members' names and a question it
asked (in the questions log) each hold a canary. A hostile fake OpenAI-compatible model then
answers every question asked from chat B (a group) and from a private chat with one payload
of ``cross_chat_sql.json``, with SQL that passes the firewall but makes PostgreSQL quote a
value in its error (a video's ``creator_id`` holds a canary too), and with one plain count.
nl2sql (``NL_ENGINE=llm``) and the executor run in this process; the questions are
published as the gateway publishes them (the gateway and Telegram are not in the loop), as
``tally_reader``, which migrations 0003/0004 still let read the chat tables: the firewall
and the error sentences are all that stand in the way.

Searched for the canaries: every answer (the whole QuestionAnswered), every structlog event
and stdlib log record (DEBUG), all output to stdout and stderr, every span (name,
attributes, events, status) and every metric sample with its labels, of both services.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from structlog.testing import capture_logs

from tally.contracts.events import QuestionAnswered, QuestionAsked
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor import failures
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.settings import CommonSettings, to_asyncpg_url
from tally.nl2sql.app import create_broker_for as nl2sql_broker
from tally.nl2sql.config import Nl2sqlSettings
from tally.testing.llm import FakeLlm, Json, Reply, sql_reply
from tests.factories.chat_rows import ChatRows, remove_chats, upsert_user

pytestmark = pytest.mark.timeout(180)
ERROR = StatusCode.ERROR

MARK = uuid4().hex
"""In every canary: found anywhere, some of chat A's data got out."""
TEXT, TITLE, NAME = f"text {MARK}", f"title {MARK}", f"name-{MARK}"
QUESTION, CREATOR = f"question {MARK}", f"creator-{MARK}"
CHAT_A, CHAT_B, PRIVATE = -100_913_001, -100_913_002, 913_003
MEMBERS = (913_011, 913_012)
NOW = datetime.now(UTC)
CORPUS: dict[str, list[list[str]]] = json.loads(
    (Path(__file__).parent / "cross_chat_sql.json").read_text("utf-8")
)
REFUSED = [sql for cases in CORPUS.values() for sql, _ in cases]
QUOTING = [
    f"SELECT count(creator_id::{kind}) FROM videos WHERE creator_id LIKE 'creator-%'"
    for kind in ("int", "bigint", "numeric", "uuid", "boolean", "date", "timestamptz")
]
"""Accepted by the firewall; PostgreSQL's error would quote the video's creator_id."""
CONTROL = "SELECT count(*) FROM videos"
PAYLOADS = [*REFUSED, *QUOTING, CONTROL]


@dataclass
class Stack:
    """nl2sql and the executor on a subject prefix of their own, a NATS client, the fake
    model and both services' metrics."""

    client: Client
    subjects: Subjects
    llm: FakeLlm
    registries: tuple[CollectorRegistry, CollectorRegistry]

    async def ask(self, chat_id: int) -> list[QuestionAnswered]:
        """Every payload asked from ``chat_id`` (question ``case-<n>`` gets payload n); the
        answers in payload order, within 90 s."""
        questions = [_question(chat_id, n) for n in range(len(PAYLOADS))]
        answers: dict[UUID, QuestionAnswered] = {}
        done = asyncio.Event()

        async def collect(message: Msg) -> None:
            answer = QuestionAnswered.model_validate_json(message.data)
            answers[answer.question.question_id] = answer
            if len(answers) == len(questions):
                done.set()

        subscription = await self.client.subscribe(
            self.subjects.answers_for("telegram"), cb=collect
        )
        for question in questions:
            await self.client.publish(
                self.subjects.question_asked, question.model_dump_json().encode()
            )
        async with asyncio.timeout(90):
            await done.wait()
        await subscription.unsubscribe()
        return [answers[question.question_id] for question in questions]


def _question(chat_id: int, number: int) -> QuestionAsked:
    return QuestionAsked(
        channel="telegram",
        chat_id=chat_id,
        user_id=PRIVATE,
        language="en",
        text=f"How popular are the videos? case-{number:04d}",
    )


def hostile(body: Json) -> Reply:
    """The model: the payload whose number the question carries."""
    asked = json.dumps(body["messages"][-1])
    number = int(asked.split("case-", 1)[1][:4])
    return Reply.json(sql_reply(PAYLOADS[number], "as you asked"))


async def _write_chat_a(engine: AsyncEngine) -> list[str]:
    """Chat A, storing text, with canaries in its rows; the partitions of ``messages`` made."""
    async with engine.begin() as connection:
        rows = ChatRows(connection, CHAT_A)
        await rows.create(title=TITLE, first_seen_at=NOW - timedelta(days=3))
        for n, user_id in enumerate(MEMBERS):
            await upsert_user(connection, user_id, first_name=NAME, last_name=NAME, seen_at=NOW)
            await rows.message(n + 1, user_id, NOW - timedelta(hours=n + 1))
        chat = {"chat": CHAT_A, "text": TEXT}
        await connection.execute(
            text("UPDATE chats SET store_text = true WHERE chat_id = :chat"), chat
        )
        await connection.execute(
            text("UPDATE messages SET text = :text WHERE chat_id = :chat"), chat
        )
        await connection.execute(
            text(
                "INSERT INTO questions (id, channel, chat_id, user_id, language, text, outcome,"
                " row_count, elapsed_ms, total_ms, asked_at, answered_at) VALUES (:id,"
                " 'telegram', :chat, :user, 'en', :text, 'answered', 1, 1, 1, :at, :at)"
            ),
            {"id": uuid4(), "chat": CHAT_A, "user": MEMBERS[0], "text": QUESTION, "at": NOW},
        )
        await connection.execute(
            text("INSERT INTO videos VALUES (:id, :creator, :at, 1, 1, 1, 1, :at, :at)"),
            {"id": uuid4(), "creator": CREATOR, "at": NOW},
        )
    return rows.partitions


async def _remove_chat_a(engine: AsyncEngine, partitions: list[str]) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM questions WHERE chat_id = :c"), {"c": CHAT_A})
        await connection.execute(text("DELETE FROM videos WHERE creator_id = :c"), {"c": CREATOR})
    await remove_chats(engine, [CHAT_A], list(MEMBERS), partitions)


@pytest.fixture(scope="module")
async def engine(settings: CommonSettings) -> AsyncIterator[AsyncEngine]:
    """A superuser engine on this run's database, with chat A written (removed afterwards)."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    partitions = await _write_chat_a(engine)
    yield engine
    await _remove_chat_a(engine, partitions)
    await engine.dispose()


@pytest.fixture(scope="module")
async def stack(
    settings: CommonSettings, spans: InMemorySpanExporter, engine: AsyncEngine
) -> AsyncIterator[Stack]:
    base = {**settings.model_dump(), "subject_prefix": f"k{uuid4().hex[:10]}"}
    subjects = Subjects(base["subject_prefix"])
    client = await nats.connect(settings.nats_url)
    await ensure_streams(client.jetstream(), subjects)
    registries = (CollectorRegistry(), CollectorRegistry())
    async with AsyncExitStack() as services, FakeLlm(respond=hostile) as llm:
        nl2sql = Nl2sqlSettings(
            **base,
            nl_engine="llm",
            llm_base_url=llm.base_url,
            llm_api_key=llm.api_key,
            llm_model="fake-model",
        )
        executor = ExecutorSettings(**base)
        reader = Reader(executor)
        services.push_async_callback(reader.close)
        for broker in (
            nl2sql_broker(nl2sql, registry=registries[0]),
            executor_broker(executor, reader, registry=registries[1]),
        ):
            await broker.start()
            services.push_async_callback(broker.stop)
        yield Stack(client, subjects, llm, registries)
    await delete_streams(client.jetstream(), subjects)
    await client.close()


def _span_texts(spans: InMemorySpanExporter) -> Iterable[str]:
    for span in spans.get_finished_spans():
        yield span.name
        yield repr(dict(span.attributes or {}))
        yield repr([(event.name, dict(event.attributes or {})) for event in span.events])
        yield repr(span.status.description)


def _leaking(texts: Iterable[str]) -> list[str]:
    return [found[:300] for found in texts if MARK in found]


async def test_no_canary_leaves_chat_a(
    stack: Stack,
    engine: AsyncEngine,
    spans: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Every payload refused with a reason, every quoting error a fixed sentence, the plain
    count answered; no canary in any answer, log line, output, span or metric."""
    caplog.set_level("DEBUG")
    spans.clear()
    with capture_logs() as events:
        answers = [*await stack.ask(CHAT_B), *await stack.ask(PRIVATE)]
    output = capfd.readouterr()
    async with engine.connect() as connection:
        videos = (await connection.execute(text(CONTROL))).scalar()

    searched: list[str] = [
        *(answer.model_dump_json() for answer in answers),
        *(repr(event) for event in events),
        *(record.getMessage() + repr(record.__dict__) for record in caplog.records),
        output.out,
        output.err,
        *_span_texts(spans),
        *(generate_latest(registry).decode() for registry in stack.registries),
    ]
    assert _leaking(searched) == []
    expected = [*(["refused"] * len(REFUSED)), *(["failed"] * len(QUOTING)), "answered"]
    assert [answer.outcome for answer in answers] == expected * 2
    for answer in answers:
        if answer.outcome == "refused":
            assert answer.reason and answer.reason.startswith("Refused: ")
        elif answer.outcome == "failed":
            assert answer.reason == failures.DATA
        else:
            assert answer.value == videos
    assert sum(answer.value is not None for answer in answers) == 2
    failed_spans = [s for s in spans.get_finished_spans() if s.status.status_code is ERROR]
    assert len(failed_spans) >= 2 * len(QUOTING)
    refusals = [event for event in events if event["event"] == "sql refused"]
    assert len(refusals) == 2 * len(REFUSED)
    sqlstates = [event.get("sqlstate") for event in events if event["event"] == "query failed"]
    assert sqlstates.count("22P02") + sqlstates.count("22007") == 2 * len(QUOTING)
    print(
        f"\ncanary: {len(answers)} payloads asked ({len(PAYLOADS)} from chat B, as many from a"
        f" private chat), {sum(a.outcome == 'refused' for a in answers)} refused,"
        f" {sum(a.outcome == 'failed' for a in answers)} failed with a fixed sentence,"
        f" {sum(a.outcome == 'answered' for a in answers)} answered (the control),"
        f" {len(searched)} texts searched, leaks {len(_leaking(searched))}"
    )


@pytest.mark.parametrize(
    "sql",
    [
        f"SELECT max(text::int) FROM messages WHERE chat_id = {CHAT_A}",
        f"SELECT max(title::bigint) FROM chats WHERE chat_id = {CHAT_A}",
        f"SELECT first_name::uuid FROM users WHERE user_id = {MEMBERS[0]}",
        f"SELECT max(text::date) FROM questions WHERE chat_id = {CHAT_A}",
        f"SELECT max(to_number(text, '9')) FROM messages WHERE chat_id = {CHAT_A}",
        f"SELECT text::jsonb FROM messages WHERE chat_id = {CHAT_A}",
    ],
)
async def test_database_errors_on_chat_a_quote_nothing(
    settings: CommonSettings, engine: AsyncEngine, sql: str
) -> None:
    """Below the firewall, on the runner as the superuser (as a trusted plan would run):
    PostgreSQL's error quotes chat A's value, the answer and the log do not."""
    executor = ExecutorSettings(**settings.model_dump())
    trusted = Reader(executor, url=to_asyncpg_url(settings.database_url))
    with capture_logs() as events, pytest.raises(failures.QueryRejectedError) as raised:
        await trusted.fetch_rows(sql, max_bytes=10_000)
    await trusted.close()
    assert raised.value.message == failures.DATA
    assert _leaking([raised.value.message, repr(events)]) == []
    assert [event["query"] for event in events] == [failures.fingerprint(sql)]
