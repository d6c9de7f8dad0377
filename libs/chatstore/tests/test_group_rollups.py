"""The group reports' rollups ingest keeps equal a recount from the raw rows (the statements
migrations 0009 and 0013 backfill them with), those of 0012 the sums of the rollups they
sum, and those of 0014 (the reply report's) their recounts, however the events are split into
batches, in whatever order messages arrive, and when every event is delivered twice. The reply
report read from them equals the raw recount for many periods."""

import importlib.util
import random
from collections.abc import AsyncIterator
from datetime import date, timedelta
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import TextClause, literal_column, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore import read
from tally.chatstore.read import Period
from tally.chatstore.tables import CHAT_TABLES
from tally.chatstore.write.batch import plan_batch
from tally.chatstore.write.rollup_statements import delay_bucket
from tally.chatstore.write.word_rollups import recount_words
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.chat_events import (
    ChatEvent,
    MessagePosted,
    ReactionChanged,
    ReactionCounts,
    SettingsChanged,
)
from tally.infra.db.session import MIGRATIONS, create_engine
from tests.factories.group_chat import ELSEWHERE, GROUP, USER_IDS, elsewhere_events, group_events
from tests.factories.reply_chat import MEMBER_IDS, REPLY_CHAT, ZONE, reply_events

CHATS = (GROUP, ELSEWHERE, REPLY_CHAT)


def _migration(name: str) -> ModuleType:
    """The migration whose file name holds ``name`` (its number and ``_``, or its name)."""
    path = next((MIGRATIONS / "versions").glob(f"*{name}*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECOUNTS = {
    statement.split()[2]: statement.strip().split("\n", 1)[1]
    for statement in _migration("0009_").BACKFILL
    if statement.lstrip().startswith("INSERT INTO")
}
"""Table -> the SELECT that counts its rows from the raw rows."""
SUMMED: dict[str, str] = _migration("0012_").RECOUNTS
"""Table of 0012 -> the SELECT that sums its counts from the rollup it sums."""
HOURS: dict[str, str] = _migration("_member_hour_rollups").RECOUNTS
"""``user_hours_daily`` -> its recount from the raw messages; ``user_hours_monthly`` -> the
sums of the daily rows."""
REPLY_ROLLUPS: dict[str, str] = _migration("_reply_rollups").RECOUNTS
"""Table of 0014 -> the SELECT that gives its rows (from the raw rows or the rollup it sums)."""
SUMMED_COLUMNS = {
    "user_chat_monthly": "chat_id, month, user_id, messages, words",
    "user_reactions_monthly": "chat_id, month, user_id, received, given",
    "user_replies_daily": "*",
    "user_replies_monthly": "*",
}
COUNTS = {
    "chat_content_daily": 6,
    "user_reactions_daily": 2,
    "user_chat_monthly": 2,
    "user_reactions_monthly": 2,
}
"""The number of count columns (last in each row) of a rollup, when not 1."""
TEXT_ROLLUPS = ("chat_words_daily", "chat_hashtags_daily")
REACTION_ROLLUPS = (
    "message_reactions",
    "message_reaction_totals",
    "reaction_emoji_daily",
    "user_reactions_daily",
)


async def _clear(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in CHAT_TABLES:
            if "chat_id" in table.c:
                await connection.execute(table.delete().where(table.c.chat_id.in_(CHATS)))
        await connection.execute(
            text("DELETE FROM users WHERE user_id = ANY(:ids)"), {"ids": USER_IDS + MEMBER_IDS}
        )


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await _clear(engine)
    yield engine
    await _clear(engine)
    await engine.dispose()


async def _rows(engine: AsyncEngine, table: str, query: str) -> list[tuple[Any, ...]]:
    """The rows of ``query`` of our chats, but those whose counts are all 0 (a row a batch
    touched whose increments summed to nothing)."""
    counts = COUNTS.get(table, 1)
    async with engine.connect() as connection:
        rows = await connection.execute(text(f"SELECT * FROM ({query}) AS q"))
        return sorted(
            (tuple(row) for row in rows if row[0] in CHATS and any(row[-counts:])),
            key=repr,
        )


@pytest.mark.parametrize("batch", [1, 7, 1000])
async def test_rollups_equal_a_recount(engine: AsyncEngine, batch: int) -> None:
    """Batches of 1, 7 or all events, each batch written twice: every rollup equals its
    recount from the raw rows, and is not empty."""
    writer = ChatWriter(engine)
    for events in (group_events(), elsewhere_events()):
        await writer.write(events[:1])  # the settings first
        rest = events[1:]
        for start in range(0, len(rest), batch):
            await writer.write(rest[start : start + batch])
            await writer.write(rest[start : start + batch])
    await _check_recounts(engine)


def _interleaved(*chats: list[ChatEvent]) -> list[ChatEvent]:
    """The events of ``chats`` in one stream, as chats' events reach CHAT_EVENTS together:
    by time, each chat's own events in their order."""
    stamped = [
        (event.occurred_at, n, i, event)
        for n, chat in enumerate(chats)
        for i, event in enumerate(chat)
    ]
    return [event for *_, event in sorted(stamped, key=lambda item: item[:3])]


@pytest.mark.parametrize(("ways", "batch"), [(2, 7), (3, 200)])
async def test_rollups_equal_a_recount_when_chats_are_written_at_once(
    engine: AsyncEngine, ways: int, batch: int
) -> None:
    """Three chats' events in one stream, each batch split by chat into concurrent
    transactions (``ChatWriter.ways``) and written twice: every rollup equals its recount,
    as when each chat is written alone; the users are every sender's."""
    writer = ChatWriter(engine, ways=ways)
    events = _interleaved(group_events(), elsewhere_events(), reply_events(600))
    for start in range(0, len(events), batch):
        for _ in range(2):
            written, refused = await writer.write_isolating(events[start : start + batch])
            assert refused == [] and written.events == len(events[start : start + batch])
    await _check_recounts(engine)
    senders = sorted(plan_batch(events, {}).users)
    async with engine.connect() as connection:
        users = await connection.execute(
            text("SELECT user_id FROM users WHERE user_id = ANY(:ids) ORDER BY user_id"),
            {"ids": senders},
        )
        assert [user_id for (user_id,) in users] == senders


async def _check_recounts(engine: AsyncEngine) -> None:
    """Every rollup of our chats equals its recount from the raw rows (or the rollup it sums),
    and is not empty."""
    for table, recount in RECOUNTS.items():
        stored = await _rows(engine, table, f"SELECT * FROM {table}")
        assert stored, table
        assert stored == await _rows(engine, table, recount), table
    for table, recount in SUMMED.items():
        stored = await _rows(engine, table, f"SELECT {SUMMED_COLUMNS[table]} FROM {table}")
        assert stored, table
        assert stored == await _rows(engine, table, recount), table
    for table, recount in HOURS.items():
        stored = await _rows(engine, table, f"SELECT * FROM {table}")
        assert len({row[3] for row in stored}) > 3, table  # messages at several local hours
        assert stored == await _rows(engine, table, recount), table
    await _check_reply_rollups(engine)
    kept = [await _rows(engine, t, f"SELECT * FROM {t}") for t in TEXT_ROLLUPS]
    async with engine.connect() as connection:
        assert await recount_words(connection)
        recounted = [await _rows_in(connection, t) for t in TEXT_ROLLUPS]
        await connection.rollback()
    assert kept == recounted
    assert all(kept)


async def _check_reply_rollups(engine: AsyncEngine) -> None:
    """Each rollup of 0014 equals its recount, and is not empty."""
    for table, recount in REPLY_ROLLUPS.items():
        stored = await _rows(engine, table, f"SELECT * FROM {table}")
        assert stored, table
        assert stored == await _rows(engine, table, recount), table


@pytest.mark.parametrize("batch", [1, 7])
async def test_reply_rollups_equal_a_recount_whatever_the_order(
    engine: AsyncEngine, batch: int
) -> None:
    """Messages arriving shuffled, each batch written twice: a reply whose original is not
    stored yet stays unmatched (as ingest stores it), and every reply rollup equals its
    recount from the raw rows."""
    writer = ChatWriter(engine)
    shuffled = random.Random(batch)
    for events in (group_events(), elsewhere_events(), reply_events(300)):
        await writer.write(events[:1])  # the settings first
        rest = [e for e in events[1:] if isinstance(e, MessagePosted)]
        order = shuffled.sample(rest, len(rest))
        for start in range(0, len(order), batch):
            await writer.write(order[start : start + batch])
            await writer.write(order[start : start + batch])
    await _check_reply_rollups(engine)


async def test_a_delay_s_bucket_is_the_same_in_ingest_and_in_the_migration(
    engine: AsyncEngine,
) -> None:
    """``delay_bucket`` (ingest's SQL) and migration 0014's ``BUCKET`` (its backfill) put every
    delay in the same bucket: whole seconds below 64 s, 6 leading bits above, at the edges
    of the buckets and of the powers of two."""
    edges = [2**k + d for k in range(5, 40) for d in (-1, -0.5, 0, 0.25, 1)]
    known = {63.9: 63, 64.9: 64, 65.0: 64, 127.5: 126, 1_000_000.0: 999_424}
    delays = [0.0, 0.999999, 1.0, 63.5, 64.0, 65.0, 127.5, 1_000_000.0, *known, *edges]
    bucket = _migration("_reply_rollups").BUCKET
    ingest = delay_bucket(literal_column("m.reply_delay_s")).compile(dialect=postgresql.dialect())
    async with engine.connect() as connection:
        found = await connection.execute(
            text(
                f"SELECT {bucket}, {ingest} FROM unnest(CAST(:delays AS float8[]))"
                " WITH ORDINALITY AS m(reply_delay_s, n) ORDER BY n"
            ),
            {"delays": delays},
        )
        in_sql = [tuple(row) for row in found]
    assert [migration for migration, _ in in_sql] == [ingest for _, ingest in in_sql]
    by_delay = dict(zip(delays, (ingest for _, ingest in in_sql), strict=True))
    assert {delay: by_delay[delay] for delay in known} == known


def _raw_pairs(chat_id: int, period: Period, limit: int) -> TextClause:
    """The ``limit`` busiest (replier, author) pairs of ``period``, counted from ``messages``."""
    return text(
        "SELECT user_id, reply_to_user_id, count(*) AS replies FROM messages"
        " WHERE chat_id = :chat AND sent_at >= :start AND sent_at < :end"
        " AND reply_to_user_id IS NOT NULL AND user_id IS NOT NULL"
        " AND user_id <> reply_to_user_id"
        " GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT :limit"
    ).bindparams(chat=chat_id, start=period.utc_start, end=period.utc_end, limit=limit)


def _raw_median(chat_id: int, period: Period) -> TextClause:
    """The median delay of ``period``'s replies, from ``messages``."""
    return text(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY reply_delay_s) FROM messages"
        " WHERE chat_id = :chat AND sent_at >= :start AND sent_at < :end"
        " AND reply_delay_s IS NOT NULL"
    ).bindparams(chat=chat_id, start=period.utc_start, end=period.utc_end)


async def test_the_reply_report_equals_a_raw_recount(engine: AsyncEngine) -> None:
    """For periods of one day to five months starting anywhere in the chat's months (whole
    months, months in part, periods inside one month, before and after the chat), the top
    pairs (limits 1, 3, 10 and 40) and the median delay equal those counted from the raw
    ``messages`` rows, to the last bit of the float."""
    writer = ChatWriter(engine)
    events: list[ChatEvent] = reply_events()
    for start in range(0, len(events), 500):
        await writer.write(events[start : start + 500])
    zone = read.zone(ZONE)
    periods = [
        Period(
            date(2025, 7, 10) + timedelta(days=start),
            date(2025, 7, 10) + timedelta(days=start + length),
            zone,
        )
        for start in range(0, 165, 8)
        for length in (0, 6, 29, 45, 89, 140)
    ]
    checked = 0
    async with engine.connect() as connection:
        for number, period in enumerate(periods):
            limit = (1, 3, 10, 40)[number % 4]
            stats = await read.reply_stats(connection, REPLY_CHAT, period, limit)
            raw = (await connection.execute(_raw_pairs(REPLY_CHAT, period, limit))).all()
            got = [(p.replier.user_id, p.replied_to.user_id, p.replies) for p in stats.top_pairs]
            assert got == [tuple(row) for row in raw], (period, limit)
            median = (await connection.execute(_raw_median(REPLY_CHAT, period))).scalar()
            assert stats.median_delay_seconds == median, period
            checked += bool(raw)
    assert checked > 80


async def _rows_in(connection: Any, table: str) -> list[tuple[Any, ...]]:
    rows = await connection.execute(text(f"SELECT * FROM {table}"))
    return sorted((tuple(row) for row in rows if row[0] in CHATS and row[-1]), key=repr)


async def test_turning_text_off_forgets_its_words(engine: AsyncEngine) -> None:
    """A chat that stops storing text loses its counted words and hashtags with the text."""
    writer = ChatWriter(engine)
    events = group_events()
    await writer.write(events)
    first = events[0]
    assert isinstance(first, SettingsChanged) and first.settings.store_text
    off = first.model_copy(
        update={
            "event_id": "text-off",
            "occurred_at": max(event.occurred_at for event in events),
            "settings": first.settings.model_copy(update={"store_text": False}),
        }
    )
    async with engine.connect() as connection:
        assert all([await _rows_in(connection, table) for table in TEXT_ROLLUPS])
    await writer.write([off])
    async with engine.connect() as connection:
        for table in TEXT_ROLLUPS:
            assert await _rows_in(connection, table) == [], table


@pytest.mark.parametrize("batch", [1, 7])
async def test_reactions_stored_before_their_message_are_counted(
    engine: AsyncEngine, batch: int
) -> None:
    """Every reaction (named or anonymous) arrives before the messages, as the gateway's
    concurrent handling can publish them: once the messages are stored, every rollup equals
    its recount from the raw rows, as when they come in order."""
    writer = ChatWriter(engine)
    for events in (group_events(), elsewhere_events()):
        await writer.write(events[:1])  # the settings first
        rest = events[1:]
        early = [e for e in rest if isinstance(e, ReactionChanged | ReactionCounts)]
        assert early, "the factory's chat has reactions"
        reordered = early + [e for e in rest if e not in early]
        for start in range(0, len(reordered), batch):
            await writer.write(reordered[start : start + batch])
    for table in REACTION_ROLLUPS:
        stored = await _rows(engine, table, f"SELECT * FROM {table}")
        assert stored, table
        assert stored == await _rows(engine, table, RECOUNTS[table]), table
    stored = await _rows(
        engine,
        "user_reactions_monthly",
        f"SELECT {SUMMED_COLUMNS['user_reactions_monthly']} FROM user_reactions_monthly",
    )
    assert stored == await _rows(engine, "user_reactions_monthly", SUMMED["user_reactions_monthly"])
