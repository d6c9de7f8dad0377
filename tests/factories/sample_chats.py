"""A small, deterministic set of chats for the statistics tests.

* BERLIN (Europe/Berlin): six posting users over seven weeks around the end of summer time
  (2025-10-26, when 03:00 CEST became 02:00 CET), each starting in a different week, one
  stopping early; joins and leaves (one member joins and never posts); an anonymous message;
  messages placed on both sides of local midnight and in both 02:00 hours of that night;
  retention set so its cutoff falls in mid-October 2025.
* KOLKATA (Asia/Kolkata, UTC+05:30): messages across local midnight, where a UTC hour is
  two local hours (the hourly rollup cannot answer there).
* RECENT (America/New_York): messages in the days before the test runs (the chat list's
  last 30 days), one of them older than that.
* QUIET (UTC): no messages at all.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tests.factories.chat_rows import ChatRows, remove_chats, upsert_user

BERLIN = -100_400_001
KOLKATA = -100_400_002
QUIET = -100_400_003
RECENT = -100_400_004
CHAT_IDS = [BERLIN, KOLKATA, QUIET, RECENT]
FIRST_DAY = date(2025, 9, 22)
"""A Monday: BERLIN's first week."""
WEEKS = 7
RETENTION_CUTOFF_NEAR = datetime(2025, 10, 15, tzinfo=UTC)

USERS: dict[int, tuple[str | None, str | None, str | None]] = {
    91_001: ("alice", "Alice", "Adler"),
    91_002: ("bob", "Bob", "Brandt"),
    91_003: (None, "Clara", "Weiß"),
    91_004: ("dmitry_k", "Дмитрий", "Козлов"),
    91_005: ("eve", "Eve", None),
    91_006: ("frank_50%", "Frank", "Fifty"),
    91_007: ("gina", "Gina", "Gold"),
    91_008: ("hank", None, None),
}
USER_IDS = list(USERS)
POSTERS = USER_IDS[:6]


@dataclass(frozen=True)
class SampleChats:
    """What was written: BERLIN's retention setting (days) and the partitions of ``messages``
    made for the rows (for :func:`remove_sample_chats`)."""

    berlin_retention_days: int
    partitions: list[str]


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def _berlin_messages(chat: ChatRows) -> None:
    rng = random.Random(20251026)
    message_id = 1
    for offset in range(WEEKS * 7):
        day = FIRST_DAY + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for n, user_id in enumerate(POSTERS):
            started = offset >= 7 * (n % 4)
            stopped = user_id == 91_005 and offset >= 28
            if not started or stopped or rng.random() > 0.3 + 0.1 * n:
                continue
            for _ in range(rng.randint(1, 4)):
                at = midnight + timedelta(seconds=rng.randrange(86_400))
                await chat.message(message_id, user_id, at, words=rng.randint(1, 20))
                message_id += 1
    edges: list[tuple[int | None, datetime]] = [
        (91_003, _utc(2025, 10, 25, 22, 30)),  # 00:30 CEST on Sunday 26 Oct
        (91_004, _utc(2025, 10, 26, 0, 30)),  # 02:30 CEST, the first 02:00 hour
        (91_003, _utc(2025, 10, 26, 1, 30)),  # 02:30 CET, the second
        (None, _utc(2025, 10, 26, 1, 45)),  # an anonymous admin
        (91_004, _utc(2025, 10, 26, 22, 59)),  # 23:59 CET, still Sunday
        (91_004, _utc(2025, 10, 26, 23, 30)),  # 00:30 CET on Monday 27 Oct
    ]
    for poster, at in edges:
        await chat.message(message_id, poster, at)
        message_id += 1
    await chat.reaction(1, 91_002, "👍", _utc(2025, 9, 23, 9))


async def _berlin_members(chat: ChatRows) -> None:
    changes = [
        (91_001, "join", _utc(2025, 9, 21, 22, 30)),  # 00:30 CEST on Monday 22 Sep
        (91_002, "join", _utc(2025, 9, 29, 8)),
        (91_007, "join", _utc(2025, 10, 6, 12)),  # never posts
        (91_005, "leave", _utc(2025, 10, 25, 23, 30)),  # 01:30 CEST on 26 Oct
        (91_008, "join", _utc(2025, 10, 26, 0, 15)),  # 02:15 CEST
        (91_008, "leave", _utc(2025, 10, 26, 1, 15)),  # 02:15 CET
        (91_004, "join", _utc(2025, 11, 2, 10)),  # long after their first message
    ]
    for n, (user_id, change, at) in enumerate(changes):
        await chat.member(f"sample:{n}", user_id, change, at)


async def _kolkata(chat: ChatRows) -> None:
    moments = [
        _utc(2025, 10, 10, 18, 15),  # 23:45 IST on the 10th
        _utc(2025, 10, 10, 18, 40),  # 00:10 IST on the 11th, same UTC hour
        _utc(2025, 10, 11, 6, 50),  # 12:20 IST
        _utc(2025, 10, 11, 7, 10),  # 12:40 IST, another UTC hour, same local hour
        _utc(2025, 10, 12, 20, 0),  # 01:30 IST on the 13th
    ]
    for message_id, at in enumerate(moments, start=1):
        await chat.message(message_id, POSTERS[message_id % 2], at)


async def _recent(chat: ChatRows, now: datetime) -> None:
    ages = [timedelta(hours=1), timedelta(days=3), timedelta(days=3, hours=2), timedelta(days=35)]
    for message_id, age in enumerate(ages, start=1):
        await chat.message(message_id, POSTERS[message_id % 3], now - age)


async def write_sample_chats(connection: AsyncConnection, *, now: datetime) -> SampleChats:
    """Write the sample chats (and their users) through ``connection``."""
    for user_id, (username, first_name, last_name) in USERS.items():
        await upsert_user(
            connection,
            user_id,
            username=username,
            first_name=first_name,
            last_name=last_name,
            seen_at=_utc(2025, 9, 1),
        )
    retention_days = (now - RETENTION_CUTOFF_NEAR).days
    berlin = ChatRows(connection, BERLIN, "Europe/Berlin")
    await berlin.create(
        title="Berlin group", first_seen_at=_utc(2025, 9, 1), retention_days=retention_days
    )
    await _berlin_messages(berlin)
    await _berlin_members(berlin)
    kolkata = ChatRows(connection, KOLKATA, "Asia/Kolkata")
    await kolkata.create(title="Kolkata group", first_seen_at=_utc(2025, 10, 1))
    await _kolkata(kolkata)
    quiet = ChatRows(connection, QUIET, "UTC")
    await quiet.create(title="Quiet group", first_seen_at=_utc(2025, 10, 1))
    recent = ChatRows(connection, RECENT, "America/New_York")
    await recent.create(title="Recent group", first_seen_at=now - timedelta(days=40))
    await _recent(recent, now)
    made = [name for chat in (berlin, kolkata, recent) for name in chat.partitions]
    return SampleChats(berlin_retention_days=retention_days, partitions=made)


async def remove_sample_chats(engine: AsyncEngine, sample: SampleChats) -> None:
    """Remove what :func:`write_sample_chats` wrote, partitions it made included."""
    await remove_chats(engine, CHAT_IDS, USER_IDS, sample.partitions)
