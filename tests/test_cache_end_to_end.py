"""The answer cache across services, on real NATS and PostgreSQL: a question asked again is
answered from the cache, and a batch stored through ingest invalidates it."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import nats
import pytest
from nats.aio.client import Client

from tally.cli.client import Asker
from tally.contracts.events import BatchStored, VideoBatch, VideoRecord
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.ingest.app import create_broker_for as ingest_broker
from tally.ingest.app import create_database_engine
from tally.ingest.config import IngestSettings
from tally.nl2sql.app import create_broker_for as nl2sql_broker
from tally.nl2sql.config import Nl2sqlSettings

CREATOR = uuid4().hex
QUESTION = f"How many videos does creator {CREATOR} have?"
COUNT_SQL = "SELECT count(*) FROM videos WHERE creator_id = $1"
STAMP = datetime(2025, 11, 3, tzinfo=UTC)


@dataclass
class Stack:
    """ingest, nl2sql and the executor running; a bus client and a database connection."""

    settings: CommonSettings
    subjects: Subjects
    nc: Client
    database: asyncpg.Connection

    async def import_videos(self, count: int, batch_no: int) -> None:
        """Store ``count`` new videos of ``CREATOR`` through ingest; wait for its confirmation."""
        batch = VideoBatch(
            import_id=uuid4().hex, batch_no=batch_no, videos=tuple(video() for _ in range(count))
        )
        stored = await self.nc.subscribe(self.subjects.import_progress(batch.import_id))
        await self.nc.jetstream().publish(
            self.subjects.video_batch, batch.model_dump_json().encode()
        )
        confirmed = BatchStored.model_validate_json((await stored.next_msg(timeout=15)).data)
        assert confirmed.videos == count

    async def expected(self) -> int:
        return int(await self.database.fetchval(COUNT_SQL, CREATOR))


def video() -> VideoRecord:
    return VideoRecord(
        id=uuid4(),
        creator_id=CREATOR,
        video_created_at=STAMP,
        views_count=5,
        likes_count=1,
        comments_count=0,
        reports_count=0,
        created_at=STAMP,
        updated_at=STAMP,
    )


@pytest.fixture(scope="module")
async def stack(settings: CommonSettings) -> AsyncIterator[Stack]:
    """The three services in this process on a subject prefix (and answers bucket) of their
    own; ``CREATOR``'s videos are removed afterwards."""
    base = {**settings.model_dump(), "subject_prefix": f"c{uuid4().hex[:10]}"}
    subjects = Subjects(base["subject_prefix"])
    nc = await nats.connect(settings.nats_url)
    await ensure_streams(nc.jetstream(), subjects)
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    async with AsyncExitStack() as services:
        ingest_settings = IngestSettings(**base)
        engine = create_database_engine(ingest_settings)
        reader = Reader(ExecutorSettings(**base))
        services.push_async_callback(engine.dispose)
        services.push_async_callback(reader.close)
        for broker in (
            ingest_broker(ingest_settings, engine=engine),
            nl2sql_broker(Nl2sqlSettings(**base)),
            executor_broker(ExecutorSettings(**base), reader),
        ):
            await broker.start()
            services.push_async_callback(broker.stop)
        yield Stack(CommonSettings(**base), subjects, nc, database)
    await database.execute("DELETE FROM videos WHERE creator_id = $1", CREATOR)
    await database.close()
    await delete_streams(nc.jetstream(), subjects)
    await nc.close()


async def test_a_batch_through_ingest_invalidates_the_cached_answer(stack: Stack) -> None:
    """Asked twice, the second answer is the cached one; once ingest stores a new video of the
    creator, the same question is answered from the database with the new count."""
    await stack.import_videos(2, batch_no=0)
    async with Asker(stack.settings) as asker:
        first = (await asker.ask(QUESTION)).answer
        again = (await asker.ask(QUESTION)).answer
        await stack.import_videos(1, batch_no=1)
        after = (await asker.ask(QUESTION)).answer
        cached_again = (await asker.ask(QUESTION)).answer

    assert (first.outcome, first.cached, first.value) == ("answered", False, 2)
    assert (again.cached, again.value, again.elapsed_ms) == (True, 2, 0.0)
    assert (after.cached, after.value) == (False, await stack.expected())
    assert after.value == 3
    assert (cached_again.cached, cached_again.value) == (True, 3)
