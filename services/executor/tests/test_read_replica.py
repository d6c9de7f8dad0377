"""READ_DATABASE_URL: the executor's plans run on a read replica; operations reports do not."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tally.contracts.events import QueryPlanned, QuestionAsked
from tally.executor.answering import answer
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.models import READER_ROLE
from tally.infra.db.session import asyncpg_dsn, ensure_database, migrate
from tally.infra.settings import CommonSettings
from tally.semantic.plan import Aggregate, Dataset, Filter, Measure, Op, QueryPlan

pytestmark = pytest.mark.timeout(90)
CREATOR = "5ca1ab1e" * 4
PUBLISHED = datetime(2025, 11, 20, tzinfo=UTC)


async def _add_videos(url: str, count: int) -> list[object]:
    """``count`` videos of CREATOR in the database at ``url``; their ids."""
    connection = await asyncpg.connect(**asyncpg_dsn(url))
    ids = [uuid4() for _ in range(count)]
    try:
        for video_id in ids:
            await connection.execute(
                "INSERT INTO videos VALUES ($1, $2, $3, 0, 0, 0, 0, $3, $3)",
                video_id,
                CREATOR,
                PUBLISHED,
            )
    finally:
        await connection.close()
    return ids


@pytest.fixture
async def replica(settings: CommonSettings) -> AsyncIterator[str]:
    """A second migrated database standing in for a replica: 7 videos of CREATOR there, 2 in
    the primary (both removed afterwards)."""
    url = make_url(settings.database_url).set(database=f"tally_replica_{uuid4().hex[:10]}")
    rendered = url.render_as_string(hide_password=False)
    await ensure_database(rendered)
    await asyncio.to_thread(migrate, rendered)
    await _add_videos(rendered, 7)
    primary_ids = await _add_videos(settings.database_url, 2)
    yield rendered
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    await connection.execute("DELETE FROM videos WHERE id = ANY($1::uuid[])", primary_ids)
    await connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    await connection.close()


async def _count(settings: ExecutorSettings) -> object:
    plan = QueryPlan(
        dataset=Dataset.VIDEOS,
        measure=Measure(aggregate=Aggregate.COUNT),
        filters=(Filter(column="creator_id", op=Op.EQ, value=CREATOR),),
        interpretation="videos of the creator",
    )
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q")
    reader = Reader(settings)
    try:
        result = await answer(QueryPlanned(question=question, plan=plan, planned_ms=0.1), reader)
    finally:
        await reader.close()
    assert result.outcome == "answered", result
    return result.value


async def test_plans_run_on_the_read_replica(settings: CommonSettings, replica: str) -> None:
    """With READ_DATABASE_URL set, a plan counts the replica's rows (7), as tally_reader;
    unset, the primary's (2). The operations reports stay on DATABASE_URL."""
    primary = ExecutorSettings(**settings.model_dump())
    on_replica = ExecutorSettings(**settings.model_dump(), read_database_url=replica)
    assert await _count(primary) == 2
    assert await _count(on_replica) == 7
    assert on_replica.reader_url.database == make_url(replica).database
    assert on_replica.reader_url.username == READER_ROLE
    assert on_replica.ops_url == primary.ops_url


def test_explicit_reader_login_wins() -> None:
    """EXECUTOR_DATABASE_URL (a full login, with its password) is used as given, replica or not."""
    login = "postgresql://tally_reader:secret@replica:5432/tally"
    settings = ExecutorSettings(
        read_database_url="postgresql://postgres@replica:5432/tally", executor_database_url=login
    )
    assert settings.reader_url.password == "secret" and settings.reader_url.host == "replica"
