"""Ingest killed with SIGKILL while 40,000 chat events stream in, then restarted: every
event is stored exactly once, and the tables equal a clean rebuild from the stream.

Ingest runs as its own process (``python -m tally.ingest``, as ``tally up`` starts it) on a
database and subject prefix of its own. It acknowledges a batch only after its transaction
commits, so a kill loses at most uncommitted work, which JetStream redelivers.
"""

import asyncio
import pprint
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import uuid4

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.tables import CHAT_TABLES
from tally.chatstore.write.replay import replay_chat_events
from tally.chatstore.write.writer import ChatWriter, truncate_chat_tables
from tally.cli.seed_chats import generate_chat_events, publish_chat_events
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.db.session import create_engine, scratch_database
from tally.infra.settings import CommonSettings
from tests.chaos._stack import Service, until

EVENTS = 40_000
"""20 of ingest's batches (CHAT_BATCH_SIZE 2,000), 5 of them before the kill; the test's time
grows with it (ingest, then the clean replay, store every event)."""
KILL_AFTER = 10_000
"""Acknowledged events after which ingest is killed: well inside the stream."""
pytestmark = pytest.mark.timeout(300)

Snapshot = dict[str, list[tuple[Any, ...]]]


async def _acked(js: JetStreamContext, subjects: Subjects) -> int:
    """The stream sequence up to which ingest has acknowledged everything (0 before it
    has a consumer)."""
    try:
        info = await js.consumer_info(subjects.chat_events_stream, CHATS_DURABLE)
    except NotFoundError:
        return 0
    return int(info.ack_floor.stream_seq)


async def _snapshot(engine: AsyncEngine) -> Snapshot:
    tables: Snapshot = {}
    async with engine.connect() as connection:
        for table in (t.name for t in CHAT_TABLES):
            rows = await connection.execute(text(f"SELECT * FROM {table}"))
            tables[table] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def _differences(left: Snapshot, right: Snapshot) -> dict[str, Any]:
    """Per table, up to 3 rows only on the left and 3 only on the right (a readable diff)."""
    found: dict[str, Any] = {}
    for table in left:
        only_left = sorted(set(left[table]) - set(right[table]), key=repr)[:3]
        only_right = sorted(set(right[table]) - set(left[table]), key=repr)[:3]
        if only_left or only_right:
            found[table] = {"after the kill": only_left, "clean": only_right}
    return found


@pytest.fixture
async def stack(settings: CommonSettings) -> AsyncIterator[tuple[CommonSettings, AsyncEngine]]:
    """A database and subject prefix for this test alone; both removed afterwards."""
    async with scratch_database(settings.database_url, "tally_chaos") as rendered:
        own = settings.model_copy(
            update={"database_url": rendered, "subject_prefix": f"chaos{uuid4().hex[:8]}"}
        )
        engine = create_engine(rendered)
        try:
            yield own, engine
        finally:
            await engine.dispose()
            connection = await nats.connect(own.nats_url)
            await delete_streams(connection.jetstream(), Subjects(own.subject_prefix))
            await connection.close()


async def test_ingest_killed_mid_stream_stores_every_event_exactly_once(
    stack: tuple[CommonSettings, AsyncEngine],
) -> None:
    """SIGKILL after 10,000 of 40,000 events, restart: nothing lost, nothing doubled, and
    every chat table equals the one a clean replay of the stream builds."""
    settings, engine = stack
    subjects = Subjects(settings.subject_prefix)
    events = generate_chat_events(end=date(2025, 11, 30), chats=10, users=1000, days=20)
    events = events[:EVENTS]
    assert len(events) == EVENTS
    ingest = Service(
        "ingest",
        {
            "NATS_URL": settings.nats_url,
            "DATABASE_URL": settings.database_url,
            "SUBJECT_PREFIX": settings.subject_prefix,
        },
    )
    client = await nats.connect(settings.nats_url)
    js = client.jetstream()
    await ensure_streams(js, subjects)
    await ingest.start()
    await ingest.wait_ready()
    publishing = asyncio.create_task(publish_chat_events(js, subjects, events))

    async def past_kill_point() -> bool:
        return await _acked(js, subjects) >= KILL_AFTER

    await until(past_kill_point, timeout_s=120, what=f"{KILL_AFTER} acknowledged events")
    await ingest.kill()
    acked_at_kill = await _acked(js, subjects)
    assert await publishing == EVENTS
    assert acked_at_kill < EVENTS, "the kill came after everything was stored"

    await ingest.start()
    await ingest.wait_ready()

    async def caught_up() -> bool:
        return await _acked(js, subjects) >= EVENTS

    await until(caught_up, timeout_s=180, what="ingest to catch up after the restart")
    await ingest.stop()
    after_kill = await _snapshot(engine)

    messages = {(e.chat_id, e.message_id) for e in events if e.kind == "message"}
    assert len(after_kill["messages"]) == len(messages)

    await truncate_chat_tables(engine=engine)
    await replay_chat_events(js=js, subjects=subjects, writer=ChatWriter(engine))
    await client.close()
    clean = await _snapshot(engine)
    differences = _differences(after_kill, clean)
    assert not differences, pprint.pformat(differences)
