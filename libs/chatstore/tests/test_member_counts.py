"""Daily member counts: planned per local day (the day's last snapshot), stored idempotently,
and read back by the /members report; a period without snapshots says so (no number)."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore import read
from tally.chatstore.read import Period
from tally.chatstore.tables import CHAT_TABLES, MEMBER_COUNTS
from tally.chatstore.write.batch import ChatState, plan_batch
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.chat_events import ChatSettings, MemberCountObserved, SettingsChanged
from tally.infra.db.session import create_engine

BERLIN = "Europe/Berlin"


def observed(chat_id: int, at: datetime, count: int) -> MemberCountObserved:
    return MemberCountObserved(
        event_id=f"member_count:{chat_id}:{uuid4().hex[:8]}",
        chat_id=chat_id,
        occurred_at=at,
        count=count,
    )


def test_plan_keeps_the_last_snapshot_of_each_local_day() -> None:
    """Two snapshots on one Berlin day keep the later; 23:30 UTC is already the next day in
    Berlin, so it is a day of its own."""
    chat = -100
    events = [
        observed(chat, datetime(2026, 3, 2, 12, tzinfo=UTC), 50),
        observed(chat, datetime(2026, 3, 2, 8, tzinfo=UTC), 40),  # older, arrives later
        observed(chat, datetime(2026, 3, 2, 23, 30, tzinfo=UTC), 55),
    ]
    plan = plan_batch(events, {chat: ChatState(timezone=BERLIN)})
    assert {day: row["count"] for (_, day), row in plan.member_counts.items()} == {
        date(2026, 3, 2): 50,
        date(2026, 3, 3): 55,
    }


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def chat_id(engine: AsyncEngine) -> AsyncIterator[int]:
    chat = -(10**12) - int(uuid4().int % 10**9)
    yield chat
    async with engine.begin() as connection:
        for table in CHAT_TABLES:
            if "chat_id" in table.c:
                await connection.execute(table.delete().where(table.c.chat_id == chat))


async def stored(engine: AsyncEngine, chat_id: int) -> list[tuple[date, int]]:
    counts = MEMBER_COUNTS.c
    async with engine.connect() as connection:
        found = await connection.execute(
            select(counts.day, counts.count).where(counts.chat_id == chat_id).order_by(counts.day)
        )
        return [(day, count) for day, count in found]


async def test_one_row_per_local_day_whatever_the_batches(
    engine: AsyncEngine, chat_id: int
) -> None:
    """A redelivered batch and an older snapshot written after a newer one change nothing:
    each local day keeps its last snapshot."""
    writer = ChatWriter(engine)
    settings = SettingsChanged(
        event_id=f"s{chat_id}",
        chat_id=chat_id,
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        settings=ChatSettings(timezone=BERLIN),
    )
    late = observed(chat_id, datetime(2026, 3, 2, 20, tzinfo=UTC), 120)
    early = observed(chat_id, datetime(2026, 3, 2, 6, tzinfo=UTC), 118)
    next_day = observed(chat_id, datetime(2026, 3, 2, 23, 30, tzinfo=UTC), 121)
    await writer.write([settings, late, next_day])
    await writer.write([late, early])
    await writer.write([early])
    assert await stored(engine, chat_id) == [(date(2026, 3, 2), 120), (date(2026, 3, 3), 121)]


async def test_the_members_report_gives_the_series_and_its_change(
    engine: AsyncEngine, chat_id: int
) -> None:
    """The period's days with a snapshot, in order; first, last and change; a day without a
    snapshot is absent, and a period without any has None everywhere."""
    start = datetime(2026, 4, 1, 12, tzinfo=UTC)
    counts = {0: 200, 1: 204, 3: 199, 9: 300}  # day offset -> count; day 9 is after the period
    events = [observed(chat_id, start + timedelta(days=d), n) for d, n in counts.items()]
    await ChatWriter(engine).write(events)
    period = Period(date(2026, 4, 1), date(2026, 4, 7), ZoneInfo("UTC"))
    empty = Period(date(2026, 5, 1), date(2026, 5, 7), ZoneInfo("UTC"))
    async with engine.connect() as db:
        flow = await read.member_flow(db, chat_id, period)
        nothing = await read.member_flow(db, chat_id, empty)
    assert [(p.day, p.count) for p in flow.member_counts] == [
        (date(2026, 4, 1), 200),
        (date(2026, 4, 2), 204),
        (date(2026, 4, 4), 199),
    ]
    assert (flow.count_first, flow.count_last, flow.count_change) == (200, 199, -1)
    assert nothing.member_counts == []
    assert (nothing.count_first, nothing.count_last, nothing.count_change) == (None, None, None)
