"""Chat events through JetStream into PostgreSQL, on real NATS and PostgreSQL.

Each environment here has its own database, subject prefix and ingest broker, so tests can
compare whole tables (and ``replay --rebuild`` can empty them) without touching other tests.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from tally.chatstore.tables import CHAT_TABLES
from tally.chatstore.write.writer import (
    ChatWriter,
    WriteResult,
    apply_retention,
    retention_preview,
)
from tally.cli.main import app as cli
from tally.cli.seed_chats import generate_chat_events, publish_chat_events
from tally.contracts.chat_events import (
    ChatEvent,
    ChatSettings,
    ChatUser,
    MemberChanged,
    MessageEdited,
    MessagePosted,
    MessagesDeleted,
    ReactionChanged,
    ReactionCounts,
    SettingsChanged,
    TitleChanged,
)
from tally.contracts.events import DeadLetter
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.db.session import (
    create_engine,
    drop_database,
    ensure_database,
    migrate,
)
from tally.ingest.app import create_broker_for, create_database_engine, stop_chat_consumer
from tally.ingest.config import IngestSettings

ANN = ChatUser(user_id=501, username="ann", first_name="Ann")
BOB = ChatUser(user_id=502, first_name="Bob")
CAT = ChatUser(user_id=503, first_name="Cat")
Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass
class ChatEnv:
    """One isolated ingest: its settings, an engine for the tests' queries, a JetStream."""

    settings: IngestSettings
    subjects: Subjects
    db: AsyncEngine
    nc: Client
    js: JetStreamContext
    ingest: Any = None
    """The running ingest's broker (stop it to leave events unconsumed)."""

    async def publish(self, events: Sequence[ChatEvent], *, again: bool = False) -> None:
        """Publish ``events`` and wait until ingest acknowledged all of them. ``again``
        publishes them under new message ids, as a redelivery would bring them."""
        if again:
            for event in events:
                await self.js.publish(
                    self.subjects.chat_event(event.chat_id, event.kind),
                    event.model_dump_json().encode(),
                    headers={"Nats-Msg-Id": f"{event.event_id}:again"},
                )
        else:
            await publish_chat_events(self.js, self.subjects, events)
        await self.settled()

    async def publish_raw(self, kind: str, body: bytes) -> None:
        await self.js.publish(self.subjects.chat_event(-1, kind), body)

    async def settled(self, timeout_s: float = 60.0) -> None:
        """Wait until the ingest consumer acknowledged everything in the stream."""
        stream = self.subjects.chat_events_stream
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            last = (await self.js.stream_info(stream)).state.last_seq
            info = await self.js.consumer_info(stream, CHATS_DURABLE)
            if info.ack_floor.stream_seq >= last and info.num_ack_pending == 0:
                return
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"ingest did not store the chat events within {timeout_s} s")
            await asyncio.sleep(0.05)

    async def snapshot(self) -> Snapshot:
        """Every row of every chat table, sorted."""
        tables: Snapshot = {}
        async with self.db.connect() as connection:
            for table in (t.name for t in CHAT_TABLES):
                rows = await connection.execute(text(f"SELECT * FROM {table}"))
                tables[table] = sorted((tuple(row) for row in rows), key=repr)
        return tables

    async def rows(self, query: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.db.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query), params)]

    def tally(self, *args: str) -> str:
        """Run ``tally *args`` against this environment; return its output (exit code 0)."""
        environment = {
            "COLUMNS": "200",
            "NATS_URL": self.settings.nats_url,
            "DATABASE_URL": self.settings.database_url,
            "SUBJECT_PREFIX": self.settings.subject_prefix,
        }
        result = CliRunner().invoke(cli, list(args), env=environment)
        assert result.exit_code == 0, result.output
        return result.output


async def create_database(database_url: str) -> None:
    """Create and migrate the database ``database_url`` names."""
    await ensure_database(database_url)
    await asyncio.to_thread(migrate, database_url)


@asynccontextmanager
async def chat_environment(
    nats_url: str, server_database_url: str, *, with_database: bool = True
) -> AsyncIterator[ChatEnv]:
    """A fresh database (unless not ``with_database``: the test creates it) and subject
    prefix with streams, and ingest consuming them."""
    url = make_url(server_database_url).set(database=f"tally_chat_{uuid4().hex[:10]}")
    database_url = url.render_as_string(hide_password=False)
    if with_database:
        await create_database(database_url)
    settings = IngestSettings(
        nats_url=nats_url,
        database_url=database_url,
        subject_prefix=f"c{uuid4().hex[:10]}",
        retry_delay_s=0.5,
    )
    subjects = Subjects(settings.subject_prefix)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    engine = create_database_engine(settings)
    broker = create_broker_for(settings, engine=engine, registry=CollectorRegistry())
    await broker.start()
    db = create_engine(database_url)
    try:
        yield ChatEnv(settings, subjects, db, nc, js, broker)
    finally:
        await stop_chat_consumer(broker)
        await broker.stop()
        await engine.dispose()
        await db.dispose()
        await delete_streams(js, subjects)
        await nc.close()
        await drop_database(database_url)


@pytest.fixture(scope="module")
async def env(nats_url: str, server_database_url: str) -> AsyncIterator[ChatEnv]:
    async with chat_environment(nats_url, server_database_url) as environment:
        yield environment


@pytest.fixture
async def fresh_env(nats_url: str, server_database_url: str) -> AsyncIterator[ChatEnv]:
    async with chat_environment(nats_url, server_database_url) as environment:
        yield environment


@pytest.fixture
async def env_without_database(nats_url: str, server_database_url: str) -> AsyncIterator[ChatEnv]:
    async with chat_environment(nats_url, server_database_url, with_database=False) as environment:
        yield environment


def at(text_time: str) -> datetime:
    return datetime.fromisoformat(text_time).replace(tzinfo=UTC)


class Events:
    """Chat events of one chat with unique ids, for hand-written scenarios."""

    def __init__(self, chat_id: int, title: str = "Team") -> None:
        self.chat_id, self.title, self.count = chat_id, title, 0

    def common(self, when: str) -> dict[str, Any]:
        self.count += 1
        return {
            "event_id": f"t{self.chat_id}:{self.count}",
            "chat_id": self.chat_id,
            "chat_title": self.title,
            "occurred_at": at(when),
        }

    def message(
        self, when: str, message_id: int, sender: ChatUser | None = ANN, **more: Any
    ) -> MessagePosted:
        return MessagePosted(**self.common(when), message_id=message_id, sender=sender, **more)


def without_zeros(rows: list[tuple[Any, ...]], keys: int) -> list[tuple[Any, ...]]:
    """Rollup rows whose counts are not all zero (a zero row and no row say the same)."""
    return sorted(row for row in rows if any(row[keys:]))


async def rollups(env: ChatEnv) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "chat_daily": without_zeros(
            await env.rows(
                "SELECT chat_id, day, messages, words, joins, leaves, reactions FROM chat_daily"
            ),
            2,
        ),
        "user_chat_daily": without_zeros(
            await env.rows("SELECT chat_id, day, user_id, messages, words FROM user_chat_daily"),
            3,
        ),
        "chat_hourly": without_zeros(
            await env.rows("SELECT chat_id, hour, messages, words FROM chat_hourly"), 2
        ),
    }


DAILY_FROM_RAW = """
WITH sent AS (
    SELECT m.chat_id, (m.sent_at AT TIME ZONE c.timezone)::date AS day,
           count(*) AS messages, sum(m.word_count) AS words
    FROM messages m JOIN chats c ON c.chat_id = m.chat_id GROUP BY 1, 2
), members AS (
    SELECT e.chat_id, (e.occurred_at AT TIME ZONE c.timezone)::date AS day,
           count(*) FILTER (WHERE e.change = 'join') AS joins,
           count(*) FILTER (WHERE e.change = 'leave') AS leaves
    FROM member_events e JOIN chats c ON c.chat_id = e.chat_id GROUP BY 1, 2
), reacted AS (
    SELECT r.chat_id, (r.reacted_at AT TIME ZONE c.timezone)::date AS day, count(*) AS reactions
    FROM reactions r JOIN chats c ON c.chat_id = r.chat_id GROUP BY 1, 2
)
SELECT chat_id, day, coalesce(s.messages, 0), coalesce(s.words, 0), coalesce(m.joins, 0),
       coalesce(m.leaves, 0), coalesce(r.reactions, 0)
FROM sent s FULL JOIN members m USING (chat_id, day) FULL JOIN reacted r USING (chat_id, day)
"""
USER_DAILY_FROM_RAW = """
SELECT m.chat_id, (m.sent_at AT TIME ZONE c.timezone)::date, m.user_id, count(*),
       sum(m.word_count)
FROM messages m JOIN chats c ON c.chat_id = m.chat_id
WHERE m.user_id IS NOT NULL GROUP BY 1, 2, 3
"""
HOURLY_FROM_RAW = """
SELECT chat_id, date_trunc('hour', sent_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*),
       sum(word_count)
FROM messages GROUP BY 1, 2
"""


async def recomputed(env: ChatEnv) -> dict[str, list[tuple[Any, ...]]]:
    """The rollups computed again from the raw tables, independently of ingest's code."""
    return {
        "chat_daily": without_zeros(await env.rows(DAILY_FROM_RAW), 2),
        "user_chat_daily": without_zeros(await env.rows(USER_DAILY_FROM_RAW), 3),
        "chat_hourly": without_zeros(await env.rows(HOURLY_FROM_RAW), 2),
    }


async def test_messages_layout_is_detected(env: ChatEnv) -> None:
    """Where the TimescaleDB extension is available the migration made ``messages`` a
    hypertable, elsewhere a partitioned table; ingest detects which (every other test of this
    module then runs on that path)."""
    available = await env.rows("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    expected = "TimescaleDB hypertable" if available else "partitioned table"
    assert await ChatWriter(env.db).layout() == expected


async def test_a_batch_of_every_kind_lands_in_the_tables(env: ChatEnv) -> None:
    """Settings, messages, an edit, a deletion, reactions (one replaced), totals, a join, a
    leave and a title change, published together, land in their tables and rollups, and the
    settings in the settings bucket."""
    e = Events(-100_200)
    berlin = ChatSettings(timezone="Europe/Berlin", store_text=True)
    await env.publish(
        [
            SettingsChanged(**e.common("2025-11-01T08:00:00"), settings=berlin),
            e.message("2025-11-03T09:00:00", 1, text="hello team", text_length=10, word_count=2),
            e.message(
                "2025-11-03T09:05:00",
                2,
                sender=BOB,
                message_type="photo",
                reply_to_message_id=1,
                forwarded=True,
                links=1,
            ),
            e.message("2025-11-03T23:30:00", 3, sender=None, text_length=20, word_count=4),
            MessageEdited(
                **e.common("2025-11-03T09:10:00"),
                message_id=1,
                sent_at=at("2025-11-03T09:00:00"),
                text="hello whole team",
                text_length=16,
                word_count=3,
            ),
            MessagesDeleted(**e.common("2025-11-03T09:20:00"), message_ids=(2,)),
            ReactionChanged(**e.common("2025-11-03T09:30:00"), message_id=1, user=BOB, new=("👍",)),
            ReactionChanged(
                **e.common("2025-11-03T09:31:00"), message_id=1, user=CAT, new=("🔥", "👍")
            ),
            ReactionChanged(
                **e.common("2025-11-03T09:40:00"), message_id=1, user=BOB, old=("👍",), new=("❤",)
            ),
            ReactionCounts(**e.common("2025-11-03T09:50:00"), message_id=1, counts={"👍": 5}),
            MemberChanged(**e.common("2025-11-03T10:00:00"), user=CAT, change="join", inviter=ANN),
            MemberChanged(**e.common("2025-11-03T11:00:00"), user=BOB, change="leave"),
            TitleChanged(**e.common("2025-11-03T12:00:00"), title="Team 2"),
        ]
    )

    chat = -100_200
    assert await env.rows(
        "SELECT chat_type, title, timezone, store_text, first_seen_at, updated_at"
        " FROM chats WHERE chat_id = :c",
        c=chat,
    ) == [
        (
            "supergroup",
            "Team 2",
            "Europe/Berlin",
            True,
            at("2025-11-01T08:00"),
            at("2025-11-03T23:30"),
        )
    ]
    assert await env.rows(
        "SELECT user_id, username, first_seen_at, last_seen_at FROM users"
        " WHERE user_id IN (501, 502, 503) ORDER BY user_id"
    ) == [
        (501, "ann", at("2025-11-03T09:00"), at("2025-11-03T10:00")),
        (502, None, at("2025-11-03T09:05"), at("2025-11-03T11:00")),
        (503, None, at("2025-11-03T09:31"), at("2025-11-03T10:00")),
    ]
    assert await env.rows(
        "SELECT message_id, user_id, message_type, text, text_length, word_count,"
        " reply_to_message_id, forwarded, links, edited_at, deleted_at"
        " FROM messages WHERE chat_id = :c ORDER BY 1",
        c=chat,
    ) == [
        (1, 501, "text", "hello whole team", 16, 3, None, False, 0, at("2025-11-03T09:10"), None),
        (2, 502, "photo", None, 0, 0, 1, True, 1, None, at("2025-11-03T09:20")),
        (3, None, "text", None, 20, 4, None, False, 0, None, None),
    ]
    assert await env.rows(
        "SELECT user_id, emoji, reacted_at FROM reactions WHERE chat_id = :c ORDER BY 1, 2", c=chat
    ) == [
        (502, "❤", at("2025-11-03T09:40")),
        (503, "👍", at("2025-11-03T09:31")),
        (503, "🔥", at("2025-11-03T09:31")),
    ]
    assert await env.rows(
        "SELECT emoji, count FROM reaction_counts WHERE chat_id = :c", c=chat
    ) == [("👍", 5)]
    assert await env.rows(
        "SELECT user_id, change, inviter_id FROM member_events WHERE chat_id = :c ORDER BY 1",
        c=chat,
    ) == [(502, "leave", None), (503, "join", 501)]
    assert await env.rows(
        "SELECT day, messages, words, joins, leaves, reactions FROM chat_daily"
        " WHERE chat_id = :c ORDER BY day",
        c=chat,
    ) == [(date(2025, 11, 3), 2, 3, 1, 1, 3), (date(2025, 11, 4), 1, 4, 0, 0, 0)]
    assert await env.rows(
        "SELECT day, user_id, messages, words FROM user_chat_daily WHERE chat_id = :c ORDER BY 2",
        c=chat,
    ) == [(date(2025, 11, 3), 501, 1, 3), (date(2025, 11, 3), 502, 1, 0)]
    assert await env.rows(
        "SELECT hour, messages, words FROM chat_hourly WHERE chat_id = :c ORDER BY 1", c=chat
    ) == [(at("2025-11-03T09:00"), 2, 3), (at("2025-11-03T23:00"), 1, 4)]
    bucket = await env.js.key_value(env.subjects.chat_settings_bucket)
    stored = await bucket.get(str(chat))
    assert ChatSettings.model_validate_json(stored.value or b"") == berlin


async def test_redelivered_events_change_nothing(env: ChatEnv) -> None:
    """The same events delivered a second time leave every table and rollup as it was."""
    events = generate_chat_events(end=date(2025, 11, 30), chats=2, users=40, days=10, seed=7)
    await env.publish(events)
    before = await env.snapshot()

    await env.publish(events, again=True)

    assert await env.snapshot() == before


async def test_a_chat_admins_settings_change_is_audited_once(env: ChatEnv) -> None:
    """A SettingsChanged made by a chat admin (through a signed dashboard link) leaves one
    admin_audit row naming them, also when delivered again; the operator's leaves none."""
    e = Events(-100_470)
    by_admin = SettingsChanged(
        **e.common("2025-11-06T09:00:00"), settings=ChatSettings(retention_days=30), changed_by=7
    )
    by_operator = SettingsChanged(
        **e.common("2025-11-06T10:00:00"), settings=ChatSettings(retention_days=60)
    )
    await env.publish([by_admin, by_operator])
    await env.publish([by_admin, by_operator], again=True)

    rows = await env.rows(
        "SELECT user_id, command, allowed, detail FROM admin_audit WHERE chat_id = :chat",
        chat=e.chat_id,
    )
    assert [row[:3] for row in rows] == [(7, "settings", True)]
    assert ChatSettings.model_validate_json(rows[0][3]).retention_days == 30


async def test_poison_messages_are_dead_lettered_and_the_next_is_stored(env: ChatEnv) -> None:
    """Invalid JSON, an unknown time zone and a value the database refuses each become a dead
    letter with the reason; the events around them are stored."""
    dead = await env.nc.subscribe(env.subjects.dead_letter("ingest"))
    p = Events(-100_400)
    mars = SettingsChanged(
        **p.common("2025-11-05T09:00:00"), settings=ChatSettings(timezone="Mars/Base")
    )
    too_long = ReactionChanged(
        **p.common("2025-11-05T09:30:00"), message_id=1, user=ANN, new=("x" * 100,)
    )
    await env.publish_raw("message", b"{not json")
    await env.publish_raw("settings", mars.model_dump_json().encode())
    await env.publish([too_long, p.message("2025-11-05T10:00:00", 1)])

    letters = [
        DeadLetter.model_validate_json((await dead.next_msg(timeout=15)).data) for _ in range(3)
    ]
    reasons = sorted(letter.reason for letter in letters)
    assert reasons[0].startswith("database refused it:")
    assert "invalid chat event: " in reasons[1] and "Mars/Base" in reasons[2]
    assert {letter.payload for letter in letters} >= {"{not json"}
    assert await env.rows("SELECT message_id FROM messages WHERE chat_id = -100400") == [(1,)]

    good_again = p.message("2025-11-05T10:00:00", 1)
    written, refused = await ChatWriter(env.db).write_isolating([too_long, good_again])
    assert (written.events, written.messages, [index for index, _ in refused]) == (1, 0, [0])


async def test_replay_rebuild_gives_identical_tables(env: ChatEnv) -> None:
    """After `tally seed-chats`, `tally replay --stream CHAT_EVENTS --rebuild` empties the
    chat tables and rebuilds them from the stream exactly; replaying a stored range again
    changes nothing."""
    seeded = await asyncio.to_thread(
        env.tally,
        *("seed-chats", "--chats", "3", "--users", "50", "--days", "20", "--seed", "11"),
        *("--end", "2025-11-30"),
    )
    assert "for 3 chats, 20 days up to 2025-11-30" in seeded
    await env.settled()
    live = await env.snapshot()

    output = await asyncio.to_thread(env.tally, "replay", "--stream", "CHAT_EVENTS", "--rebuild")
    assert "Emptied the chat tables" in output
    assert await env.snapshot() == live

    await asyncio.to_thread(env.tally, "replay", "--stream", "CHAT_EVENTS", "--from", "1")
    await asyncio.to_thread(
        env.tally, "replay", "--stream", "CHAT_EVENTS", "--from", "2025-11-20T00:00:00Z"
    )
    assert await env.snapshot() == live


# The rollups test comes after the replay test: the replays read this module's whole stream,
# and the rollups test's 30,000 events, published before them, tripled their time.


class CountingWriter(ChatWriter):
    """The real writer, counting its :meth:`write` calls (one transaction each)."""

    writes = 0

    async def write(self, events: Sequence[ChatEvent]) -> WriteResult:
        self.writes += 1
        return await super().write(events)


async def test_refused_events_are_found_by_halving_the_fetch(env: ChatEnv) -> None:
    """A fetch of 64 events of which the database refuses two: the other 62 are stored, the
    two reported by index, in at most 1 + 2·2·log2(64) = 25 transactions (one per event
    took 65). Written straight to the database, not through the stream: after the replay
    test, which compares a rebuild from the stream with the tables."""
    p = Events(-100_401)
    events: list[ChatEvent] = [
        p.message(f"2025-11-05T{10 + n // 60:02d}:{n % 60:02d}:00", n + 1) for n in range(64)
    ]
    for index in (10, 50):
        refused = ReactionChanged(
            **p.common("2025-11-05T12:00:00"), message_id=1, user=ANN, new=("x" * 100,)
        )
        events[index] = refused
    writer = CountingWriter(env.db)

    written, refused_events = await writer.write_isolating(events)

    assert [index for index, _ in refused_events] == [10, 50]
    assert all(reason.startswith("database refused it:") for _, reason in refused_events)
    assert (written.events, written.messages) == (62, 62)
    assert writer.writes <= 25
    stored = await env.rows("SELECT count(*) FROM messages WHERE chat_id = -100401")
    assert stored == [(62,)]


async def test_rollups_equal_the_raw_tables_counted_in_local_days(env: ChatEnv) -> None:
    """Rollups equal the raw rows counted again by SQL, in each chat's local days, including
    a Berlin chat across the end of summer time (2025-10-26, 01:00 UTC)."""
    dst = Events(-100_300)
    berlin = ChatSettings(timezone="Europe/Berlin")
    events: list[ChatEvent] = [
        SettingsChanged(**dst.common("2025-10-20T00:00:00"), settings=berlin),
        dst.message("2025-10-25T21:30:00", 1, word_count=1),  # 23:30 CEST: the 25th
        dst.message("2025-10-25T22:30:00", 2, word_count=1),  # 00:30 CEST: the 26th
        dst.message("2025-10-26T00:30:00", 3, word_count=1),  # 02:30 CEST, clocks not back yet
        dst.message("2025-10-26T01:30:00", 4, word_count=1),  # 02:30 CET, after
        dst.message("2025-10-26T22:59:00", 5, word_count=1),  # 23:59 CET: the 26th
        dst.message("2025-10-26T23:00:00", 6, word_count=1),  # 00:00 CET: the 27th
    ]
    seeded = generate_chat_events(end=date(2025, 11, 30), chats=3, users=60, days=45, seed=3)

    await env.publish(events + seeded)

    assert await env.rows(
        "SELECT day, messages FROM chat_daily WHERE chat_id = -100300 ORDER BY day"
    ) == [(date(2025, 10, 25), 1), (date(2025, 10, 26), 4), (date(2025, 10, 27), 1)]
    assert await rollups(env) == await recomputed(env)


async def test_retention_deletes_old_raw_rows_and_keeps_the_rollups(fresh_env: ChatEnv) -> None:
    """Preview lists, per chat with retention_days, the raw rows older than that; apply
    deletes exactly those; chats without retention and the rollups are left alone."""
    env, now = fresh_env, at("2025-06-01T00:00:00")
    old = Events(-100_500)
    kept = Events(-100_501)
    await env.publish(
        [
            SettingsChanged(
                **old.common("2025-03-01T00:00:00"), settings=ChatSettings(retention_days=30)
            ),
            old.message("2025-04-01T10:00:00", 1),
            old.message("2025-04-02T10:00:00", 2, sender=BOB),
            ReactionChanged(
                **old.common("2025-04-02T11:00:00"), message_id=1, user=BOB, new=("👍",)
            ),
            ReactionCounts(**old.common("2025-04-02T11:00:00"), message_id=1, counts={"👍": 3}),
            MemberChanged(**old.common("2025-04-03T10:00:00"), user=CAT, change="join"),
            old.message("2025-05-20T10:00:00", 3),
            MemberChanged(**old.common("2025-05-21T10:00:00"), user=BOB, change="leave"),
            kept.message("2025-04-01T10:00:00", 1),
        ]
    )
    before = await env.snapshot()

    preview = await retention_preview(engine=env.db, now=now)
    assert [
        (c.chat_id, c.messages, c.member_events, c.reactions, c.reaction_counts) for c in preview
    ] == [(-100_500, 2, 1, 1, 1)]
    assert "-100500" in await asyncio.to_thread(env.tally, "retention", "--preview")
    assert await apply_retention(engine=env.db, now=now) == preview

    after = await env.snapshot()
    assert [counts.messages for counts in await retention_preview(engine=env.db, now=now)] == [0]
    assert await env.rows("SELECT chat_id, message_id FROM messages ORDER BY 1, 2") == [
        (-100_501, 1),
        (-100_500, 3),
    ]
    assert await env.rows("SELECT change FROM member_events") == [("leave",)]
    assert after["reactions"] == after["reaction_counts"] == []
    for rollup in ("chat_daily", "user_chat_daily", "chat_hourly"):
        assert after[rollup] == before[rollup]


async def test_events_wait_for_the_database_instead_of_being_lost(
    env_without_database: ChatEnv,
) -> None:
    """While the database does not exist yet, the batch is nak'ed and redelivered, not
    dead-lettered; once it is created and migrated, the events are stored."""
    env = env_without_database
    dead = await env.nc.subscribe(env.subjects.dead_letter("ingest"))
    early = Events(-100_600)
    await publish_chat_events(
        env.js, env.subjects, [early.message("2025-11-05T10:00:00", n) for n in (1, 2)]
    )
    await asyncio.sleep(1.5)  # three redeliveries at RETRY_DELAY_S = 0.5

    await create_database(env.settings.database_url)
    await env.settled()

    assert await env.rows("SELECT message_id FROM messages ORDER BY 1") == [(1,), (2,)]
    with pytest.raises(nats.errors.TimeoutError):
        await dead.next_msg(timeout=0.5)
