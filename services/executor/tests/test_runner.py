"""The executor on real PostgreSQL: right numbers, read-only, bounded in time."""

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest
from structlog.testing import capture_logs

from tally.contracts.events import QueryPlanned, QuestionAsked
from tally.executor import failures
from tally.executor.answering import answer
from tally.executor.config import ExecutorSettings
from tally.executor.failures import QueryRejectedError, QueryTimeoutError
from tally.executor.runner import Reader
from tally.infra.db.session import asyncpg_dsn
from tally.infra.errors import UserFacingError
from tally.infra.settings import CommonSettings
from tally.semantic.plan import Aggregate, Dataset, Filter, Measure, Op, QueryPlan, TimeRange

CREATOR = "c0ffee" * 5 + "ab"
DAY = datetime(2025, 11, 27, tzinfo=UTC)


@pytest.fixture(scope="module")
async def seeded(settings: CommonSettings) -> AsyncIterator[asyncpg.Connection]:
    """Three videos of one creator with two snapshots each, removed afterwards."""
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    ids = [uuid4() for _ in range(3)]
    for n, video_id in enumerate(ids):
        await connection.execute(
            "INSERT INTO videos VALUES ($1, $2, $3, $4, $5, 0, 0, $3, $3)",
            video_id,
            CREATOR,
            DAY - timedelta(days=n),
            1000 * (n + 1),
            10 * n,
        )
        for hour in (1, 2):
            await connection.execute(
                "INSERT INTO video_snapshots VALUES ($1, $2, 0, 0, 0, 0, $3, 0, 0, 0, $4, $4)",
                uuid4().hex,
                video_id,
                (n - 1) * 100 * hour,
                DAY + timedelta(hours=hour),
            )
    yield connection
    await connection.execute("DELETE FROM video_snapshots WHERE video_id = ANY($1::uuid[])", ids)
    await connection.execute("DELETE FROM videos WHERE id = ANY($1::uuid[])", ids)
    await connection.close()


@pytest.fixture(scope="module")
def executor_settings(settings: CommonSettings) -> ExecutorSettings:
    return ExecutorSettings(**settings.model_dump(), statement_timeout_ms=200)


def _planned(plan: QueryPlan) -> QueryPlanned:
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q")
    return QueryPlanned(question=question, plan=plan, planned_ms=0.1)


PLANS = {
    "SELECT count(*) FROM videos WHERE creator_id = $1": QueryPlan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.COUNT),
        filters=(Filter(column="creator_id", op=Op.EQ, value=CREATOR),),
        interpretation="videos of the creator",
    ),
    "SELECT coalesce(sum(s.delta_views_count), 0) FROM video_snapshots s JOIN videos v"
    " ON v.id = s.video_id WHERE v.creator_id = $1 AND s.created_at >= '2025-11-27'"
    " AND s.created_at < '2025-11-28'": QueryPlan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.SUM, column="delta_views_count"),
        filters=(Filter(column="creator_id", op=Op.EQ, value=CREATOR),),
        time_range=TimeRange(column="created_at", start=DAY, end=DAY + timedelta(days=1)),
        interpretation="growth",
    ),
    "SELECT count(DISTINCT s.video_id) FROM video_snapshots s JOIN videos v"
    " ON v.id = s.video_id WHERE v.creator_id = $1 AND s.delta_views_count > 0": QueryPlan(
        dataset=Dataset.SNAPSHOTS,
        measure=Measure(aggregate=Aggregate.COUNT_DISTINCT, column="video_id"),
        filters=(
            Filter(column="creator_id", op=Op.EQ, value=CREATOR),
            Filter(column="delta_views_count", op=Op.GT, value=0),
        ),
        interpretation="videos that grew",
    ),
    "SELECT avg(views_count) FROM videos WHERE creator_id = $1": QueryPlan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.AVG, column="views_count"),
        filters=(Filter(column="creator_id", op=Op.EQ, value=CREATOR),),
        interpretation="average views",
    ),
}


@pytest.mark.parametrize("reference_sql", list(PLANS))
async def test_answers_match_independent_sql(
    seeded: asyncpg.Connection, executor_settings: ExecutorSettings, reference_sql: str
) -> None:
    """Each plan's answer equals what hand-written SQL returns on the same rows."""
    reader = Reader(executor_settings)
    result = await answer(_planned(PLANS[reference_sql]), reader)
    await reader.close()
    expected = await seeded.fetchval(reference_sql, CREATOR)
    assert result.outcome == "answered"
    assert result.value == pytest.approx(float(expected))
    assert CREATOR not in (result.sql or "")


async def test_reader_role_cannot_write(executor_settings: ExecutorSettings) -> None:
    """The executor's login may read the analytics tables and nothing more."""
    reader = Reader(executor_settings)
    pool = await reader.pool()
    with pytest.raises(asyncpg.PostgresError, match=r"read-only|permission denied"):
        await pool.execute("DELETE FROM videos")
    with pytest.raises(asyncpg.PostgresError, match="permission denied"):
        await pool.fetchval("SELECT count(*) FROM bot_users")
    await reader.close()


async def test_statement_timeout_cancels_long_queries(
    seeded: asyncpg.Connection, executor_settings: ExecutorSettings
) -> None:
    """A statement past the timeout becomes a QueryTimeoutError with a sentence to show."""
    reader = Reader(executor_settings)
    with pytest.raises(QueryTimeoutError, match="too long"):
        await reader.fetch_value("SELECT pg_sleep(1)")
    await reader.close()


async def test_dead_database_gives_a_failed_answer(executor_settings: ExecutorSettings) -> None:
    """With PostgreSQL unreachable the answer is `failed` with an actionable reason."""
    dead = executor_settings.model_copy(
        update={"executor_database_url": "postgresql://tally_reader@127.0.0.1:1/nowhere"}
    )
    reader = Reader(dead)
    result = await answer(_planned(next(iter(PLANS.values()))), reader)
    await reader.close()
    assert result.outcome == "failed"
    assert result.reason and "database" in result.reason


CANARY = "tally-canary-5be1"
"""A value only the statements below contain: PostgreSQL's messages would quote it."""


@pytest.mark.parametrize(
    ("sql", "error", "sentence", "sqlstate"),
    [
        (f"SELECT '{CANARY}'::int", QueryRejectedError, failures.DATA, "22P02"),
        (f"SELECT to_number('{CANARY}', '9')", QueryRejectedError, failures.DATA, "22P02"),
        (f'SELECT \'{{"k": "{CANARY}"\'::jsonb', QueryRejectedError, failures.DATA, "22P02"),
        (
            "SELECT 1 / (views_count - views_count) FROM videos",
            QueryRejectedError,
            failures.DATA,
            "22012",
        ),
        ('SELECT "tally-canary-5be1" FROM videos', QueryRejectedError, failures.ACCESS, "42703"),
        ("SELECT count(*) FROM bot_users", QueryRejectedError, failures.ACCESS, "42501"),
        (
            f"CREATE TEMP TABLE t (x) AS SELECT '{CANARY}'",
            QueryRejectedError,
            failures.READ_ONLY,
            "25006",
        ),
    ],
)
async def test_database_errors_reach_neither_the_asker_nor_the_log(
    seeded: asyncpg.Connection,
    executor_settings: ExecutorSettings,
    sql: str,
    error: type[UserFacingError],
    sentence: str,
    sqlstate: str,
) -> None:
    """A failing statement gives its SQLSTATE class's fixed sentence; the log line has the
    SQLSTATE and the query's fingerprint, and nothing PostgreSQL said about the value."""
    reader = Reader(executor_settings)
    with capture_logs() as logs, pytest.raises(error) as raised:
        await reader.fetch_value(sql)
    await reader.close()
    assert raised.value.message == sentence and raised.value.__cause__ is None
    assert [(log["sqlstate"], log["query"]) for log in logs] == [
        (sqlstate, failures.fingerprint(sql))
    ]
    assert "canary" not in repr(logs).lower() and "canary" not in sentence


async def test_one_deadline_bounds_every_page_of_a_cursor(
    settings: CommonSettings, seeded: asyncpg.Connection
) -> None:
    """1,000 rows at 5 ms each, read 100 a page: each page is well within a 1 s statement
    timeout (measured 5.1 s in all with a timeout per page), but the one deadline over the
    whole read stops it at about 1 s and cancels the statement on the server."""
    limited = ExecutorSettings(**settings.model_dump(), statement_timeout_ms=1000)
    reader = Reader(limited, application_name="tally-deadline-test")
    started = time.perf_counter()
    with pytest.raises(QueryTimeoutError, match="too long"):
        await reader.fetch_rows(
            "SELECT pg_sleep(0.005) FROM generate_series(1, 1000)", max_bytes=10**9
        )
    assert time.perf_counter() - started < 1.6
    running = await seeded.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tally-deadline-test'"
        " AND state = 'active'"
    )
    assert running == 0
    assert await reader.fetch_value("SELECT 1") == 1
    await reader.close()
