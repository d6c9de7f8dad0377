"""Fixtures of ingest's tests: a real ingest broker in-process, clean tables, a NATS client."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import nats
import pytest
from nats.aio.client import Client
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.infra.db.session import create_engine
from tally.infra.settings import CommonSettings
from tally.ingest.app import create_broker_for, create_database_engine, stop_chat_consumer
from tally.ingest.config import IngestSettings

VIDEO_TABLES = "video_snapshots, videos"


@pytest.fixture(scope="session")
def ingest_settings(settings: CommonSettings) -> IngestSettings:
    """Ingest settings on this run's servers, retrying failed writes after half a second."""
    return IngestSettings(**settings.model_dump(), retry_delay_s=0.5)


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on this run's database, for the tests' own queries."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def ingest(
    ingest_settings: IngestSettings, streams: None, db: AsyncEngine
) -> AsyncIterator[None]:
    """The ingest consumers running in-process for one test module; rows they logged are
    removed afterwards.

    Not session-scoped: a session fixture of this directory would outlive it and keep
    consuming this run's streams through every later test (``libs/cli``'s answers among
    them), and structlog, unconfigured under pytest, prints each ``message received`` to
    whatever ``sys.stdout`` is then, a CliRunner's too (``tally dlq ls`` read one)."""
    started = datetime.now(UTC)
    engine = create_database_engine(ingest_settings)
    broker = create_broker_for(ingest_settings, engine=engine, registry=CollectorRegistry())
    await broker.start()
    yield
    await stop_chat_consumer(broker)
    await broker.stop()
    await engine.dispose()
    async with db.begin() as connection:
        await connection.execute(
            text("DELETE FROM questions WHERE answered_at >= :t"), {"t": started}
        )


@pytest.fixture
async def clean_videos(db: AsyncEngine) -> AsyncIterator[None]:
    """Empty video tables before and after the test (the database is this run's own)."""
    async with db.begin() as connection:
        await connection.execute(text(f"TRUNCATE {VIDEO_TABLES}"))
    yield
    async with db.begin() as connection:
        await connection.execute(text(f"TRUNCATE {VIDEO_TABLES}"))


@pytest.fixture
async def nc(settings: CommonSettings) -> AsyncIterator[Client]:
    """A plain NATS connection for publishing and listening in tests."""
    connection = await nats.connect(settings.nats_url)
    yield connection
    await connection.close()


Check = Callable[[], Awaitable[bool]]


async def _eventually(check: Check, *, timeout_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.1)


@pytest.fixture
def eventually() -> Callable[..., Awaitable[None]]:
    """``await eventually(check)``: poll ``check()`` until true, failing after 15 s."""
    return _eventually
