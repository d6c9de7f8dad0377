"""Chat rows written the way ingest writes them: raw rows, and the rollups in step.

``chat_daily`` and ``user_chat_daily`` count by the chat's local calendar day (PostgreSQL's
``AT TIME ZONE`` with ``chats.timezone``), ``user_hours_daily`` by local day and hour,
``chat_hourly`` by UTC hour; every raw row adds to them in the same transaction, so rollups
and raw rows always agree.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tally.chatstore.write.partitions import ensure_message_partitions, month_start

LOCAL_DAY = "CAST(CAST(:at AS timestamptz) AT TIME ZONE :tz AS date)"
LOCAL_HOUR = "CAST(extract(hour FROM CAST(:at AS timestamptz) AT TIME ZONE :tz) AS smallint)"
UTC_HOUR = "date_trunc('hour', CAST(:at AS timestamptz) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"

_MESSAGE = text(
    "INSERT INTO messages (chat_id, message_id, sent_at, user_id, message_type, text_length,"
    " word_count, forwarded, links, mentions, hashtags)"
    " VALUES (:chat, :message, :at, :user, 'text', :words * 5, :words, false, 0, 0, 0)"
)
_CHAT_DAILY = text(
    f"INSERT INTO chat_daily (chat_id, day, messages, words, joins, leaves, reactions)"
    f" VALUES (:chat, {LOCAL_DAY}, :messages, :words, :joins, :leaves, :reactions)"
    " ON CONFLICT (chat_id, day) DO UPDATE SET"
    " messages = chat_daily.messages + EXCLUDED.messages,"
    " words = chat_daily.words + EXCLUDED.words, joins = chat_daily.joins + EXCLUDED.joins,"
    " leaves = chat_daily.leaves + EXCLUDED.leaves,"
    " reactions = chat_daily.reactions + EXCLUDED.reactions"
)
_USER_DAILY = text(
    f"INSERT INTO user_chat_daily (chat_id, day, user_id, messages, words)"
    f" VALUES (:chat, {LOCAL_DAY}, :user, 1, :words)"
    " ON CONFLICT (chat_id, day, user_id) DO UPDATE SET"
    " messages = user_chat_daily.messages + 1, words = user_chat_daily.words + EXCLUDED.words"
)
_USER_MONTHLY = text(
    f"INSERT INTO user_chat_monthly (chat_id, month, user_id, messages, words)"
    f" VALUES (:chat, date_trunc('month', {LOCAL_DAY})::date, :user, 1, :words)"
    " ON CONFLICT (chat_id, month, user_id) DO UPDATE SET"
    " messages = user_chat_monthly.messages + 1,"
    " words = user_chat_monthly.words + EXCLUDED.words"
)
"""The monthly counts ingest adds beside the daily ones (the day mask is the trigger's)."""
_USER_HOURS = tuple(
    text(
        f"INSERT INTO user_hours_{table} (chat_id, user_id, {period}, hour, messages)"
        f" VALUES (:chat, :user, {start}, {LOCAL_HOUR}, 1)"
        f" ON CONFLICT (chat_id, user_id, {period}, hour) DO UPDATE SET"
        f" messages = user_hours_{table}.messages + 1"
    )
    for table, period, start in (
        ("daily", "day", LOCAL_DAY),
        ("monthly", "month", f"date_trunc('month', {LOCAL_DAY})::date"),
    )
)
_HOURLY = text(
    f"INSERT INTO chat_hourly (chat_id, hour, messages, words) VALUES (:chat, {UTC_HOUR}, 1,"
    " :words) ON CONFLICT (chat_id, hour) DO UPDATE SET"
    " messages = chat_hourly.messages + 1, words = chat_hourly.words + EXCLUDED.words"
)
_CHAT = text(
    "INSERT INTO chats (chat_id, chat_type, title, timezone, store_text, retention_days,"
    " first_seen_at, updated_at) VALUES (:chat, 'supergroup', :title, :tz, false, :days, :at,"
    " :at) ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title,"
    " timezone = excluded.timezone, store_text = false, retention_days = excluded.retention_days,"
    " first_seen_at = excluded.first_seen_at, updated_at = excluded.updated_at"
)
"""A chat as the sample has it; it replaces the row an ingest of another test's settings
events may have made for the same id (the test session shares one CHAT_EVENTS stream)."""
_MEMBER = text(
    "INSERT INTO member_events (event_id, chat_id, user_id, change, via_link, occurred_at)"
    " VALUES (:event, :chat, :user, :change, false, :at)"
)
_REACTION = text(
    "INSERT INTO reactions (chat_id, message_id, user_id, emoji, reacted_at)"
    " VALUES (:chat, :message, :user, :emoji, :at)"
)
CHAT_TABLES = (
    "messages",
    "member_events",
    "reactions",
    "chat_daily",
    "user_chat_daily",
    "user_chat_monthly",
    "user_hours_daily",
    "user_hours_monthly",
    "chat_hourly",
    "chats",
)


@dataclass
class ChatRows:
    """One chat's rows, written through ``connection`` (commit is the caller's)."""

    connection: AsyncConnection
    chat_id: int
    timezone: str = "UTC"
    partitions: list[str] = field(default_factory=list)
    """The partitions of ``messages`` these rows made (see :func:`remove_chats`)."""

    async def _run(self, statement: TextClause, **values: object) -> None:
        await self.connection.execute(
            statement, {"chat": self.chat_id, "tz": self.timezone, **values}
        )

    async def create(
        self, *, title: str, first_seen_at: datetime, retention_days: int | None = None
    ) -> None:
        await self._run(
            _CHAT,
            title=title,
            days=retention_days,
            at=first_seen_at,
        )

    async def message(
        self, message_id: int, user_id: int | None, at: datetime, words: int = 3
    ) -> None:
        """A message, counted in all the rollups (an anonymous one, user None, in those
        without a user)."""
        self.partitions += await ensure_message_partitions(self.connection, [month_start(at)])
        values = {"message": message_id, "user": user_id, "at": at, "words": words}
        await self._run(_MESSAGE, **values)
        await self._daily(at, messages=1, words=words)
        if user_id is not None:
            await self._run(_USER_DAILY, **values)
            await self._run(_USER_MONTHLY, **values)
            for statement in _USER_HOURS:
                await self._run(statement, **values)
        await self._run(_HOURLY, **values)

    async def member(self, event_id: str, user_id: int, change: str, at: datetime) -> None:
        """A join or a leave."""
        await self._run(
            _MEMBER,
            event=event_id,
            user=user_id,
            change=change,
            at=at,
        )
        await self._daily(at, joins=int(change == "join"), leaves=int(change == "leave"))

    async def reaction(self, message_id: int, user_id: int, emoji: str, at: datetime) -> None:
        await self._run(
            _REACTION,
            message=message_id,
            user=user_id,
            emoji=emoji,
            at=at,
        )
        await self._daily(at, reactions=1)

    async def _daily(self, at: datetime, **counts: int) -> None:
        row = {"messages": 0, "words": 0, "joins": 0, "leaves": 0, "reactions": 0, **counts}
        await self._run(_CHAT_DAILY, at=at, **row)


async def upsert_user(
    connection: AsyncConnection,
    user_id: int,
    *,
    username: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    seen_at: datetime,
) -> None:
    """A user as ingest keeps them (any chat)."""
    await connection.execute(
        text(
            "INSERT INTO users (user_id, username, first_name, last_name, first_seen_at,"
            " last_seen_at) VALUES (:user, :username, :first, :last, :at, :at)"
            " ON CONFLICT (user_id) DO NOTHING"
        ),
        {
            "user": user_id,
            "username": username,
            "first": first_name,
            "last": last_name,
            "at": seen_at,
        },
    )


async def remove_chats(
    engine: AsyncEngine, chat_ids: list[int], user_ids: list[int], partitions: list[str]
) -> None:
    """Every row of ``chat_ids`` in the chat tables, the users ``user_ids``, and those of
    ``partitions`` that are empty then (so the database is as it was)."""
    async with engine.begin() as connection:
        for table in CHAT_TABLES:
            await connection.execute(
                text(f"DELETE FROM {table} WHERE chat_id = ANY(:ids)"), {"ids": chat_ids}
            )
        await connection.execute(
            text("DELETE FROM users WHERE user_id = ANY(:ids)"), {"ids": user_ids}
        )
        for name in partitions:
            rows = await connection.execute(text(f"SELECT 1 FROM {name} LIMIT 1"))
            if rows.first() is None:
                await connection.execute(text(f"DROP TABLE {name}"))
