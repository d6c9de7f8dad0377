"""Migration 0003 on real PostgreSQL: monthly message partitions, and what the reader may do."""

from datetime import UTC, date, datetime

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from tally.chatstore.tables import MESSAGES
from tally.chatstore.write.partitions import ensure_message_partitions, is_partitioned, month_start
from tally.chatstore.write.statements import batch_of, packed
from tally.contracts.chat_events import CHAT_EVENT, MessagePosted
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings, to_asyncpg_url

CHAT = -100_777


async def test_partitions_are_created_once_per_month(settings: CommonSettings) -> None:
    """A month's partition is created before its first row, and only once; rows of two
    months land in their own partitions."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    # Months no other test writes to, their partitions dropped first (a rerun on the same
    # database, or a test that stored messages of the month, would have made them).
    months = [month_start(datetime(2041, 11, 30, 23, tzinfo=UTC)), date(2041, 12, 1)]
    async with engine.begin() as connection:
        for name in ("messages_2041_11", "messages_2041_12"):
            await connection.execute(text(f"DROP TABLE IF EXISTS {name}"))
    async with engine.begin() as connection:
        assert await is_partitioned(connection)
        assert await ensure_message_partitions(connection, months) == [
            "messages_2041_11",
            "messages_2041_12",
        ]
        assert await ensure_message_partitions(connection, months) == []
    await engine.dispose()
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    for message_id, sent_at in (
        (1, datetime(2041, 11, 30, 23, tzinfo=UTC)),
        (2, datetime(2041, 12, 1, tzinfo=UTC)),
    ):
        await database.execute(
            "INSERT INTO messages (chat_id, message_id, sent_at, message_type, text_length,"
            " word_count, forwarded, links, mentions, hashtags)"
            " VALUES ($1, $2, $3, 'text', 5, 1, false, 0, 0, 0)",
            CHAT,
            message_id,
            sent_at,
        )
    rows = await database.fetch(
        "SELECT tableoid::regclass::text AS part, message_id FROM messages WHERE chat_id = $1"
        " ORDER BY message_id",
        CHAT,
    )
    await database.close()
    assert [(row["part"], row["message_id"]) for row in rows] == [
        ("messages_2041_11", 1),
        ("messages_2041_12", 2),
    ]


async def test_the_reader_reads_chat_tables_and_writes_nothing(settings: CommonSettings) -> None:
    """tally_reader can SELECT the chat tables and rollups but not insert into them."""
    dsn = asyncpg_dsn(settings.database_url)
    reader = await asyncpg.connect(**{**dsn, "user": "tally_reader"})
    for table in ("chats", "users", "messages", "chat_daily", "user_chat_daily", "chat_hourly"):
        await reader.fetchval(f"SELECT count(*) FROM {table}")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await reader.execute("INSERT INTO chat_daily (chat_id, day) VALUES (1, '2025-11-01')")
    await reader.close()


def test_chat_events_are_told_apart_by_kind() -> None:
    """A payload validates into the model its ``kind`` names."""
    event = CHAT_EVENT.validate_python(
        {
            "kind": "message",
            "event_id": "u1:message",
            "chat_id": CHAT,
            "occurred_at": "2025-11-28T10:00:00Z",
            "message_id": 7,
            "text_length": 12,
            "word_count": 2,
        }
    )
    assert isinstance(event, MessagePosted) and event.message_id == 7


def test_day_masks_pick_the_days_of_a_month_in_a_window() -> None:
    """Bit d-1 for day d: a window inside a month, across its ends, and missing it."""
    from tally.chatstore.read.summary import day_mask

    november = date(2025, 11, 1)
    assert day_mask(november, date(2025, 11, 3), date(2025, 11, 5)) == 0b11100
    assert day_mask(november, date(2025, 10, 20), date(2025, 11, 2)) == 0b11
    assert day_mask(november, date(2025, 11, 30), date(2025, 12, 9)) == 1 << 29
    assert day_mask(november, date(2025, 12, 1), date(2025, 12, 9)) == 0
    assert day_mask(date(2025, 12, 1), date(2025, 12, 1), date(2025, 12, 31)) == (1 << 31) - 1


async def test_the_monthly_masks_follow_the_daily_rollup(settings: CommonSettings) -> None:
    """A user's first message of a day (insert, or an update from 0 messages) sets that day's
    bit in user_chat_monthly; more messages that day change nothing."""
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    statements = (
        "INSERT INTO user_chat_daily (chat_id, day, user_id, messages, words)"
        " VALUES ($1, '2025-11-03', 9, 1, 2)",
        "INSERT INTO user_chat_daily (chat_id, day, user_id, messages, words)"
        " VALUES ($1, '2025-11-05', 9, 0, 4)",
        "UPDATE user_chat_daily SET messages = messages + 2 WHERE chat_id = $1",
    )
    for statement in statements:
        await database.execute(statement, CHAT)
    days = await database.fetchval(
        "SELECT days FROM user_chat_monthly WHERE chat_id = $1 AND user_id = 9", CHAT
    )
    await database.execute("DELETE FROM user_chat_daily WHERE chat_id = $1", CHAT)
    await database.execute("DELETE FROM user_chat_monthly WHERE chat_id = $1", CHAT)
    await database.close()
    assert days == (1 << 2) | (1 << 4)


async def test_a_batch_reads_back_each_column_in_order(settings: CommonSettings) -> None:
    """A batch's columns of one type travel together as one two-dimensional array (issue 17),
    and each still reads back as its own column, in row order, NULLs kept."""
    names = ("chat_id", "message_id", "sent_at", "thread_id", "message_type", "text", "links")
    columns = {
        "a_chat_id": [CHAT, CHAT, CHAT],
        "a_message_id": [1, 2, 3],
        "a_sent_at": [datetime(2041, 1, day, tzinfo=UTC) for day in (1, 2, 3)],
        "a_thread_id": [None, 7, None],
        "a_message_type": ["text", "photo", "text"],
        "a_text": [None, "hi", 'a"b\\c,{d}'],
        "a_links": [0, 2, 1],
    }
    statement = select(*batch_of(MESSAGES, names).c)
    parameters = packed(statement, columns)
    assert "p_chat_id__message_id__thread_id" in parameters
    assert "a_chat_id" not in parameters and "a_sent_at" in parameters
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    async with engine.connect() as connection:
        rows = (await connection.execute(statement, parameters)).all()
    await engine.dispose()
    assert [list(row) for row in rows] == [
        [columns[f"a_{name}"][index] for name in names] for index in range(3)
    ]
