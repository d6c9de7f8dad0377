"""The ``tally_llm`` role on real PostgreSQL: LLM-written SQL runs as a role that may read the
video tables and nothing else, whatever gets past the SQL firewall."""

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import asyncpg
import nats
import pytest
from prometheus_client import CollectorRegistry

from tally.contracts.events import QuestionAnswered, QuestionAsked, SqlProposed
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for, llm_reader
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.models import LLM_ROLE, READER_ROLE
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings

VIDEO_TABLES = ("videos", "video_snapshots")


@pytest.fixture
async def llm(settings: CommonSettings) -> AsyncIterator[Reader]:
    """The executor's LLM pool (its reader beside it), closed afterwards."""
    reader = Reader(ExecutorSettings(**settings.model_dump()))
    yield llm_reader(reader)
    await reader.close()


async def _public_tables(settings: CommonSettings) -> list[str]:
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    try:
        rows = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
    finally:
        await connection.close()
    return [row["tablename"] for row in rows]


async def test_the_llm_pool_logs_in_as_tally_llm(llm: Reader) -> None:
    """The pool LLM-written SQL runs on is the ``tally_llm`` login, in read-only sessions."""
    assert await llm.fetch_value("SELECT current_user") == LLM_ROLE
    assert await llm.fetch_value("SHOW default_transaction_read_only") == "on"


@pytest.mark.parametrize("table", VIDEO_TABLES)
async def test_tally_llm_reads_the_video_tables(llm: Reader, table: str) -> None:
    """``videos`` and ``video_snapshots`` answer."""
    rows, _ = await llm.fetch_rows(f"SELECT * FROM {table} LIMIT 1", max_bytes=1_000_000)
    assert len(rows) <= 1


@pytest.mark.parametrize("table", ["messages", "users", "questions", "chats"])
async def test_tally_llm_may_not_read_chat_tables(settings: CommonSettings, table: str) -> None:
    """``SELECT * FROM messages`` (users, questions, chats) as tally_llm is refused by
    PostgreSQL itself: insufficient_privilege (SQLSTATE 42501)."""
    dsn = asyncpg_dsn(ExecutorSettings(**settings.model_dump()).llm_url)
    connection = await asyncpg.connect(**dsn)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError) as refused:
            await connection.fetch(f"SELECT * FROM {table}")
    finally:
        await connection.close()
    assert refused.value.sqlstate == "42501"


async def test_tally_llm_reads_no_table_but_the_video_tables(settings: CommonSettings) -> None:
    """Every other table of the schema (chat tables, rollups, the questions log, bot users,
    alerts, the admin audit, ``alembic_version``) is refused to tally_llm, while
    tally_reader keeps the chat tables."""
    tables = await _public_tables(settings)
    dsn = asyncpg_dsn(ExecutorSettings(**settings.model_dump()).llm_url)
    connection = await asyncpg.connect(**dsn)
    refused = []
    try:
        for table in tables:
            try:
                await connection.fetch(f'SELECT 1 FROM "{table}" LIMIT 1')
            except asyncpg.InsufficientPrivilegeError:
                refused.append(table)
    finally:
        await connection.close()
    assert {"messages", "chats", "users", "questions", "bot_users"} <= set(refused)
    assert sorted(set(tables) - set(refused)) == sorted(VIDEO_TABLES)
    reader = await asyncpg.connect(**{**asyncpg_dsn(settings.database_url), "user": READER_ROLE})
    try:
        await reader.fetchval("SELECT count(*) FROM messages")
    finally:
        await reader.close()


async def test_the_executor_runs_llm_sql_as_tally_llm(settings: CommonSettings) -> None:
    """An SqlProposed the firewall accepts is answered on a connection logged in as
    tally_llm (application ``tally-executor-llm``); plans keep ``tally_reader``."""
    prefix = f"l{uuid4().hex[:10]}"
    executor_settings = ExecutorSettings(**{**settings.model_dump(), "subject_prefix": prefix})
    subjects = Subjects(prefix)
    reader = Reader(executor_settings)
    broker = create_broker_for(executor_settings, reader, registry=CollectorRegistry())
    client = await nats.connect(settings.nats_url)
    await ensure_streams(client.jetstream(), subjects)
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q?")
    proposed = SqlProposed(question=question, sql="SELECT count(*) FROM videos", planned_ms=1)
    try:
        await broker.start()
        await broker.connection.flush()  # its subscriptions reach the server first
        answers = await client.subscribe(subjects.answers_for("cli"))
        await client.publish(subjects.sql_proposed, proposed.model_dump_json().encode())
        # 30 s: in the full suite on 2 loaded cores the first LLM query (a new tally_llm pool,
        # the firewall's first parse) once took over 10 s (CI).
        answered = QuestionAnswered.model_validate_json((await answers.next_msg(30)).data)
        sessions = await _sessions(settings, "tally-executor-llm")
    finally:
        await broker.stop()
        await reader.close()
        await delete_streams(client.jetstream(), subjects)
        await client.close()
    assert answered.outcome == "answered", answered.reason
    assert sessions == {LLM_ROLE}


async def _sessions(settings: CommonSettings, application: str) -> set[str]:
    """The users of this database's sessions named ``application``."""
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    try:
        for _ in range(50):
            rows = await connection.fetch(
                "SELECT usename FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = $1",
                application,
            )
            if rows:
                return {row["usename"] for row in rows}
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    return set()


def test_an_explicit_llm_login_wins() -> None:
    """LLM_DATABASE_URL (a secret: a full login with its password) is used as given; unset,
    the plans' database (the replica when set) as tally_llm, no password."""
    explicit = ExecutorSettings(llm_database_url="postgresql://tally_llm:pw@db:5432/tally")
    assert explicit.llm_url.password == "pw" and explicit.llm_url.host == "db"
    assert "pw" not in repr(explicit)
    derived = ExecutorSettings(
        database_url="postgresql://owner:secret@primary:5432/tally",
        read_database_url="postgresql://owner:secret@replica:5432/tally",
    )
    assert derived.llm_url.username == LLM_ROLE
    assert derived.llm_url.password is None and derived.llm_url.host == "replica"


def test_a_derived_login_never_carries_the_owners_password() -> None:
    """The roles' logins made from DATABASE_URL drop its password (the owner's) with its user."""
    derived = ExecutorSettings(database_url="postgresql://owner:secret@primary:5432/tally")
    for url in (derived.reader_url, derived.ops_url, derived.llm_url):
        assert url.password is None and url.username != "owner"
