"""The firewall in the running executor: SqlProposed over real NATS, real PostgreSQL.

Every hostile input in the corpus goes through the handler and none reaches the database:
each answer is a firewall refusal with zero database time, a canary table the executor's
role may read and write is untouched, and nothing it names was created or changed. Plain
SELECTs give the same number as running them directly.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from prometheus_client import CollectorRegistry

from tally.contracts.events import QuestionAnswered, QuestionAsked, SqlProposed
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor import failures
from tally.executor.app import create_broker_for
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.semantic.results import as_number

HERE = Path(__file__).parent
CORPUS: dict[str, list[str]] = json.loads((HERE / "hostile_sql.json").read_text("utf-8"))
CREATOR = uuid4().hex
LEGITIMATE = [
    sql.format(creator=CREATOR)
    for sql in json.loads((HERE / "legitimate_sql.json").read_text("utf-8"))
]
CANARY = "firewall_canary"
AT_CANARY = [
    f"DROP TABLE {CANARY}",
    f"DELETE FROM {CANARY}",
    f"TRUNCATE {CANARY}",
    f"UPDATE {CANARY} SET note = 'pwned'",
    f"INSERT INTO {CANARY} VALUES (99, 'pwned')",
    f"SELECT count(*) FROM {CANARY}",
    f"SELECT 1; DELETE FROM {CANARY}",
    f"WITH d AS (DELETE FROM {CANARY} RETURNING id) SELECT count(*) FROM d",
    f"SELECT count(*) FROM videos; DROP TABLE {CANARY}",
    f"SELECT count(*) FROM videos /* */; DELETE FROM {CANARY} --",
]
HOSTILE = [sql for cases in CORPUS.values() for sql in cases if sql] + AT_CANARY
DAY = datetime(2025, 11, 27, tzinfo=UTC)
MAX_BYTES = 500


@dataclass
class Executor:
    """A started executor broker on a subject prefix of its own, and a NATS client."""

    client: Client
    subjects: Subjects
    registry: CollectorRegistry
    reader: Reader

    async def ask(self, sqls: list[str]) -> list[QuestionAnswered]:
        """Publish one SqlProposed per SQL; return the answers in the same order (waiting
        at most 30 s for all of them)."""
        answers: dict[UUID, QuestionAnswered] = {}
        done = asyncio.Event()
        questions = [_proposed(sql) for sql in sqls]

        async def collect(message: nats.aio.msg.Msg) -> None:
            answer = QuestionAnswered.model_validate_json(message.data)
            answers[answer.question.question_id] = answer
            if len(answers) == len(questions):
                done.set()

        subscription = await self.client.subscribe(self.subjects.answers_for("cli"), cb=collect)
        for proposed in questions:
            payload = proposed.model_dump_json().encode()
            await self.client.publish(self.subjects.sql_proposed, payload)
        async with asyncio.timeout(30):
            await done.wait()
        await subscription.unsubscribe()
        return [answers[proposed.question.question_id] for proposed in questions]

    def firewall_verdicts(self, verdict: str) -> float:
        """tally_executor_firewall_total{verdict=...} so far."""
        labels = {"verdict": verdict}
        return self.registry.get_sample_value("tally_executor_firewall_total", labels) or 0.0


def _proposed(sql: str) -> SqlProposed:
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q?")
    return SqlProposed(question=question, sql=sql, interpretation="as written", planned_ms=1.0)


async def _seed(connection: asyncpg.Connection) -> None:
    for n in range(3):
        video_id = uuid4()
        await connection.execute(
            "INSERT INTO videos VALUES ($1, $2, $3, $4, $5, 0, 0, $3, $3)",
            *(video_id, CREATOR, DAY - timedelta(days=n), 1000 * (n + 1), 10 * n),
        )
        for hour in (1, 2):
            await connection.execute(
                "INSERT INTO video_snapshots VALUES ($1, $2, 0, 0, 0, 0, $3, 0, 0, 0, $4, $4)",
                *(uuid4().hex, video_id, (n - 1) * 100 * hour, DAY + timedelta(hours=hour)),
            )
    await connection.execute(f"CREATE TABLE {CANARY} (id int PRIMARY KEY, note text)")
    await connection.execute(f"INSERT INTO {CANARY} VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    # Every privilege on the canary: only the firewall and read-only sessions protect it.
    await connection.execute(f"GRANT ALL ON {CANARY} TO tally_reader")


async def _unseed(connection: asyncpg.Connection) -> None:
    await connection.execute(f"DROP TABLE IF EXISTS {CANARY}")
    videos = "SELECT id FROM videos WHERE creator_id = $1"
    await connection.execute(f"DELETE FROM video_snapshots WHERE video_id IN ({videos})", CREATOR)
    await connection.execute("DELETE FROM videos WHERE creator_id = $1", CREATOR)


@pytest.fixture(scope="module")
async def admin(settings: CommonSettings) -> AsyncIterator[asyncpg.Connection]:
    """A superuser connection to this run's database, with the module's rows and canary."""
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    await _seed(connection)
    yield connection
    await _unseed(connection)
    await connection.close()


@pytest.fixture(scope="module")
async def executor(settings: CommonSettings, admin: asyncpg.Connection) -> AsyncIterator[Executor]:
    """The executor broker, started in-process, with a 20 s statement timeout (so a sleep
    that ran would show) and a 500-character result budget."""
    base = {**settings.model_dump(), "subject_prefix": f"w{uuid4().hex[:10]}"}
    subjects = Subjects(base["subject_prefix"])
    client = await nats.connect(settings.nats_url)
    await ensure_streams(client.jetstream(), subjects)
    executor_settings = ExecutorSettings(
        **base, statement_timeout_ms=20_000, firewall_max_bytes=MAX_BYTES
    )
    reader, registry = Reader(executor_settings), CollectorRegistry()
    broker = create_broker_for(executor_settings, reader, registry=registry)
    await broker.start()
    await broker.connection.flush()  # its subscriptions reach the server first
    yield Executor(client, subjects, registry, reader)
    await broker.stop()
    await reader.close()
    await delete_streams(client.jetstream(), subjects)
    await client.close()


async def _database_state(admin: asyncpg.Connection) -> dict[str, object]:
    return {
        "canary": await admin.fetch(f"SELECT * FROM {CANARY} ORDER BY id"),
        "videos": await admin.fetchval("SELECT count(*) FROM videos"),
        "snapshots": await admin.fetchval("SELECT sum(views_count) FROM video_snapshots"),
        "tables": await admin.fetchval("SELECT count(*) FROM pg_class WHERE relkind = 'r'"),
        "reader": await admin.fetchrow("SELECT * FROM pg_roles WHERE rolname = 'tally_reader'"),
        "grants": await admin.fetch(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants"
            " WHERE grantee = 'tally_reader' ORDER BY 1, 2"
        ),
    }


async def test_no_hostile_sql_reaches_the_database(
    executor: Executor, admin: asyncpg.Connection
) -> None:
    """All of the corpus, through the handler: every answer a firewall refusal that never
    touched PostgreSQL, fast (a pg_sleep that ran would cost 10 s), and nothing changed."""
    assert await executor.reader.fetch_value(f"SELECT count(*) FROM {CANARY}") == 3
    before = await _database_state(admin)
    refused_before = executor.firewall_verdicts("refused")
    started = time.perf_counter()

    answers = await executor.ask(HOSTILE)

    assert time.perf_counter() - started < 10
    for sql, answer in zip(HOSTILE, answers, strict=True):
        assert answer.outcome == "refused", sql
        assert answer.reason and answer.reason.startswith("Refused: "), sql
        assert answer.engine == "llm" and answer.elapsed_ms == 0 and answer.value is None
        assert answer.sql == sql[:2000]
    assert executor.firewall_verdicts("refused") - refused_before == len(HOSTILE)
    assert await _database_state(admin) == before
    assert await admin.fetchval("SELECT to_regclass('pwned')") is None


@pytest.mark.parametrize("sql", LEGITIMATE)
async def test_plain_selects_give_the_number_the_database_gives(
    executor: Executor, admin: asyncpg.Connection, sql: str
) -> None:
    """Accepted SQL answers with the same number as running it directly, as the LLM's
    interpretation, through the capped re-rendering."""
    [answer] = await executor.ask([sql])
    expected = as_number(await admin.fetchval(sql))
    assert answer.outcome == "answered", answer.reason
    assert answer.value == pytest.approx(expected)
    assert answer.engine == "llm" and answer.interpretation == "as written"
    assert answer.row_count == 1 and answer.sql and "LIMIT" in answer.sql


async def test_a_result_that_is_not_one_number_is_refused(executor: Executor) -> None:
    """Three rows are not an answer: refused, saying so, with the row count."""
    sql = f"SELECT views_count FROM videos WHERE creator_id = '{CREATOR}'"
    [answer] = await executor.ask([sql])
    assert answer.outcome == "refused" and answer.row_count == 3
    assert answer.reason and "not a single number" in answer.reason


async def test_a_result_past_the_byte_budget_is_refused(executor: Executor) -> None:
    """Rows past firewall_max_bytes characters are not fetched to the end: refused."""
    sql = (
        "SELECT s.id, v.id, v.creator_id FROM video_snapshots s JOIN videos v"
        f" ON v.id = s.video_id WHERE v.creator_id = '{CREATOR}'"
    )
    [answer] = await executor.ask([sql])
    assert answer.outcome == "refused"
    assert answer.reason and f"larger than {MAX_BYTES}" in answer.reason


async def test_sql_the_database_rejects_fails_with_a_fixed_sentence(executor: Executor) -> None:
    """Accepted by the firewall but wrong for PostgreSQL: `failed`, with the sentence of the
    error's SQLSTATE class, never the database's words (which quote the value)."""
    sql = f"SELECT max(creator_id::int) FROM videos WHERE creator_id = '{CREATOR}'"
    [answer] = await executor.ask([sql])
    assert (answer.outcome, answer.reason) == ("failed", failures.DATA)
    assert executor.firewall_verdicts("accepted") >= 1
