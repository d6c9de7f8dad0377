"""``make bench`` (dashboard part): chat statistics latency over millions of messages.

A fresh database (``tally_bench_chats_<hex>`` on DATABASE_URL, or the embedded server when
it is unset) is
filled with ``BENCH_MESSAGES`` messages (default 10,000,000) in ``BENCH_CHATS`` chats (a third
in the busiest; up to 500 members each, a few of them writing most) over a year, written
with ``generate_series`` (ingest's path is measured by the ingest bench); the
rollups are then computed with GROUP BY over the raw rows, as ingest would have kept them
(the group reports' rollups and each reply's original author and delay by the statements
migrations 0009, 0012, 0013 and 0014 backfill them with, the words and hashtags of the stored
text by ``tally.chatstore.write.word_rollups.recount_words``).

The messages carry what the group reports read: types, entities, forwards, forum topics,
replies (to earlier messages of the same chat), and in the busiest chat (which stores text)
words and hashtags; a fifth of the messages have named reactions, one in fifty anonymous
totals; members join (some added by others, some through a link) and leave.

For the busiest chat and its last 90 local days, each query of tally.chatstore.read the
dashboard and the group reports run (summary, daily timeseries, heatmap, first users page;
content, reactions, replies, topics, member flow, one member's report, top words, top members
by each measure) is timed ``ROUNDS`` times as the read-only role, alternating with its floor:
the same question (or its core) asked of the raw tables (``_RAW``), so both see the same
load. Prints p50/p95 ms of each, the commit and the load average.

``BENCH_KEEP=1`` keeps the filled database (``tally_bench_chats_keep_<messages>_<chats>``)
and reuses it when its ``bench_fill`` marker matches (migrations added since are applied to
it, unless ``BENCH_MIGRATE=0``: to time an older commit's read code on the same fill); drop
it by hand when done; ``BENCH_KEEP_AS=NAME`` names it ``tally_bench_chats_NAME`` instead (a copy
made with ``CREATE DATABASE … TEMPLATE``, so that two branches' migrations do not meet in one
database). ``BENCH_ONLY=users,summary`` times only the queries named. Every run
does ``VACUUM ANALYZE`` before timing. ``BENCH_WARMUP=1`` calls each query and its twin once,
untimed, before its rounds: with 10 rounds p95 is the second-worst sample, and with
``BENCH_ONLY`` the pool's two connections are new, so each runs the report's statements for
the first time in one of the first two rounds (planning with a cold catalog cache, asyncpg's
prepare), which then decide p95. ``BENCH_BASE=<git revision>`` also times that revision's
``tally.chatstore.read`` (loaded beside this one's, as ``bench_base_read``) in the same
rounds, just before or after the query (in turn) and before its twin (``base`` columns): a
before/after under one load.
"""

import asyncio
import importlib
import importlib.util
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import uuid4

import asyncpg
import uvloop
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tally.chatstore import read as chat_stats
from tally.chatstore.write.word_rollups import recount_words
from tally.cli.config import CliSettings
from tally.cli.up import Stack
from tally.infra.db.session import (
    MIGRATIONS,
    asyncpg_dsn,
    create_engine,
    drop_database,
    ensure_database,
    migrate,
)

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "10000000"))
CHATS = int(os.environ.get("BENCH_CHATS", "20"))
USERS_PER_CHAT = 500
"""Each chat has its own hundreds of members, as ``tally seed-chats`` makes them."""
DAYS = 365
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "60"))
KEEP = os.environ.get("BENCH_KEEP") == "1"
ONLY = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name}
WARMUP = os.environ.get("BENCH_WARMUP") == "1"
"""Call each query and its twin once, untimed, before its rounds."""
BASE = os.environ.get("BENCH_BASE", "")
"""A git revision whose ``tally.chatstore.read`` is timed beside this one's (none: empty)."""
FILL_VERSION = "2"
"""Bump when the fill changes: a kept database (BENCH_KEEP=1) with another is filled anew."""
ZONE = "Europe/Berlin"
NOW = datetime(2025, 12, 31, 12, tzinfo=UTC)
BUSY_CHAT = -100_900_001
"""The first chat; it gets a third of all messages."""

_FILL = """
INSERT INTO messages (chat_id, message_id, sent_at, thread_id, user_id, message_type,
                      text_length, word_count, reply_to_message_id, forwarded, links, mentions,
                      hashtags, text)
SELECT chat, n,
       timestamptz '{start}' + (random() ^ 0.7) * interval '{days} days',
       CASE WHEN n % 4 = 0 THEN NULL ELSE n % 7 END,
       ({busy} - chat) * 1000 + 1 + floor(random() * random() * {users})::int,
       (ARRAY['text', 'text', 'text', 'text', 'photo', 'sticker', 'voice', 'video'])[1 + n % 8],
       40, 1 + (n % 17),
       CASE WHEN n % 4 = 1 AND n > 60 THEN n - 3 * (1 + n % 20) END,
       n % 20 = 0, (n % 10 = 0)::int, (n % 15 = 0)::int, (n % 25 = 0)::int,
       CASE WHEN chat = {busy} THEN
         'word' || (n % 97) || ' слово' || (n % 89) || ' release notes'
         || CASE WHEN n % 25 = 0 THEN ' #tag' || (n % 13) ELSE '' END END
FROM (SELECT n, CASE WHEN n % 3 = 0 THEN {busy} ELSE {busy} - 1 - (n % ({chats} - 1)) END AS chat
      FROM generate_series({first}, {last}) AS n) AS numbered
"""
_GROUP_FILL = (
    """INSERT INTO reactions (chat_id, message_id, user_id, emoji, reacted_at)
       SELECT chat_id, message_id, ({busy} - chat_id) * 1000 + 1 + (message_id * 7 + k) % {users},
              (ARRAY['👍', '🔥', '❤', '😁'])[1 + (message_id + k) % 4], sent_at
       FROM messages, generate_series(0, 1) AS k WHERE message_id % 5 = 0""",
    """INSERT INTO reaction_counts (chat_id, message_id, emoji, count, updated_at)
       SELECT chat_id, message_id, '👍', 3 + message_id % 5, sent_at
       FROM messages WHERE message_id % 50 = 0""",
    """INSERT INTO member_events (event_id, chat_id, user_id, change, inviter_id, via_link,
                                  occurred_at)
       SELECT 'bench:' || n, chat, ({busy} - chat) * 1000 + 1 + n % {users},
              CASE WHEN n % 3 = 0 THEN 'leave' ELSE 'join' END,
              CASE WHEN n % 3 = 1 THEN ({busy} - chat) * 1000 + 1 + n % 17 END,
              n % 3 = 2, timestamptz '{start}' + random() * interval '{days} days'
       FROM (SELECT n, {busy} - n % {chats} AS chat
             FROM generate_series(1, {events}) AS n) AS numbered""",
)
_ROLLUPS = (
    """INSERT INTO chat_daily (chat_id, day, messages, words)
       SELECT chat_id, (sent_at AT TIME ZONE '{zone}')::date, count(*), sum(word_count)
       FROM messages GROUP BY 1, 2""",
    """INSERT INTO user_chat_daily (chat_id, day, user_id, messages, words)
       SELECT chat_id, (sent_at AT TIME ZONE '{zone}')::date, user_id, count(*), sum(word_count)
       FROM messages GROUP BY 1, 2, 3""",
    """INSERT INTO chat_hourly (chat_id, hour, messages, words)
       SELECT chat_id, date_trunc('hour', sent_at), count(*), sum(word_count)
       FROM messages GROUP BY 1, 2""",
    """INSERT INTO users (user_id, username, first_seen_at, last_seen_at)
       SELECT DISTINCT user_id, 'user' || user_id, now(), now() FROM messages""",
    """UPDATE chat_daily SET joins = flow.joins, leaves = flow.leaves
       FROM (SELECT chat_id, (occurred_at AT TIME ZONE '{zone}')::date AS day,
                    count(*) FILTER (WHERE change = 'join') AS joins,
                    count(*) FILTER (WHERE change = 'leave') AS leaves
             FROM member_events GROUP BY 1, 2) AS flow
       WHERE chat_daily.chat_id = flow.chat_id AND chat_daily.day = flow.day""",
)


def _group_rollups() -> tuple[str, ...]:
    """The statements migrations 0009, 0012, 0013 (the members' hours) and 0014 (the replies')
    backfill their rollups (and each reply's original author and delay) with, from the raw rows
    and the daily rollups: what ingest would have kept as it wrote them."""
    statements: list[str] = []
    for name in ("0009_", "0012_", "_member_hour_rollups", "_reply_rollups"):
        path = next((MIGRATIONS / "versions").glob(f"*{name}*.py"))
        spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        statements += module.BACKFILL
    return tuple(statements)


MEMBER_EVENTS = MESSAGES // 50
"""Joins and leaves over the year, in all chats (a third are leaves)."""
_PERIOD = "chat_id = $1 AND sent_at >= $2 AND sent_at < $3"
_RAW: dict[str, str] = {
    "summary": f"SELECT count(*), count(DISTINCT user_id) FROM messages WHERE {_PERIOD}",
    "timeseries": f"""SELECT (sent_at AT TIME ZONE $4)::date, count(*) FROM messages
                      WHERE {_PERIOD} GROUP BY 1""",
    "heatmap": f"""SELECT extract(isodow FROM sent_at AT TIME ZONE $4),
                          extract(hour FROM sent_at AT TIME ZONE $4), count(*) FROM messages
                   WHERE {_PERIOD} GROUP BY 1, 2""",
    "users": f"""SELECT user_id, count(*), count(DISTINCT (sent_at AT TIME ZONE $4)::date)
                 FROM messages WHERE {_PERIOD} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50""",
    "content": f"""SELECT message_type, count(*), sum(links), sum(mentions), sum(hashtags),
                          count(*) FILTER (WHERE forwarded), count(reply_to_message_id)
                   FROM messages WHERE {_PERIOD} GROUP BY 1""",
    "reactions": """SELECT r.emoji, count(*) FROM messages AS m
                    JOIN reactions AS r USING (chat_id, message_id)
                    WHERE m.chat_id = $1 AND m.sent_at >= $2 AND m.sent_at < $3
                    GROUP BY 1 ORDER BY 2 DESC""",
    "replies": f"""SELECT user_id, reply_to_user_id, count(*) FROM messages
                   WHERE {_PERIOD} AND reply_to_user_id IS NOT NULL
                   GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10""",
    "topics": f"""SELECT thread_id, count(*), count(DISTINCT user_id) FROM messages
                  WHERE {_PERIOD} GROUP BY 1""",
    "member flow": """SELECT (occurred_at AT TIME ZONE $4)::date, change, count(*)
                      FROM member_events
                      WHERE chat_id = $1 AND occurred_at >= $2 AND occurred_at < $3
                      GROUP BY 1, 2""",
    "member (/user)": f"""WITH per AS (SELECT user_id, count(*) AS n FROM messages
                                       WHERE {_PERIOD} GROUP BY 1)
                          SELECT n, (SELECT count(*) FROM per AS o WHERE o.n > per.n) + 1
                          FROM per WHERE user_id = 1""",
    "top words": f"""SELECT w, count(*)
                     FROM messages, regexp_split_to_table(lower(text), '[^[:alpha:]]+') AS w
                     WHERE {_PERIOD} AND length(w) > 1 GROUP BY 1 ORDER BY 2 DESC LIMIT 10""",
    "top by messages": f"""SELECT user_id, count(*) FROM messages WHERE {_PERIOD}
                           GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""",
    "top by words": f"""SELECT user_id, sum(word_count) FROM messages WHERE {_PERIOD}
                        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""",
    "top by reactions": """SELECT m.user_id, count(*) FROM messages AS m
                           JOIN reactions AS r USING (chat_id, message_id)
                           WHERE m.chat_id = $1 AND m.sent_at >= $2 AND m.sent_at < $3
                           GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""",
    "top by replies": f"""SELECT reply_to_user_id, count(*) FROM messages
                          WHERE {_PERIOD} AND reply_to_user_id IS NOT NULL
                            AND user_id IS DISTINCT FROM reply_to_user_id
                          GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""",
}
"""The floor of each query: the same question (or its core) asked of the raw tables."""


async def fill(dsn: dict[str, Any], console: Console) -> None:
    """Chats, messages (monthly partitions), rollups and users, as the owner role."""
    connection = await asyncpg.connect(**dsn)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for month in range(1, 13):
        first = f"2025-{month:02d}-01"
        last = f"{2025 + month // 12}-{month % 12 + 1:02d}-01"
        await connection.execute(
            f"CREATE TABLE messages_2025_{month:02d} PARTITION OF messages"
            f" FOR VALUES FROM ('{first} 00:00+00') TO ('{last} 00:00+00')"
        )
    await connection.execute(
        "INSERT INTO chats (chat_id, chat_type, title, timezone, first_seen_at, updated_at)"
        " SELECT $1 - n, 'supergroup', 'chat ' || n, $2, now(), now()"
        " FROM generate_series(0, $3 - 1) AS n",
        BUSY_CHAT,
        ZONE,
        CHATS,
    )
    await connection.execute("UPDATE chats SET store_text = true WHERE chat_id = $1", BUSY_CHAT)
    started = time.perf_counter()
    step = 1_000_000
    for first in range(1, MESSAGES + 1, step):
        last = min(first + step - 1, MESSAGES)
        await connection.execute(
            _FILL.format(
                busy=BUSY_CHAT,
                chats=CHATS,
                start=start,
                days=DAYS,
                users=USERS_PER_CHAT,
                first=first,
                last=last,
            )
        )
        console.print(f"  {last:,} messages written ({time.perf_counter() - started:.0f} s)")
    for statement in _GROUP_FILL:
        await connection.execute(
            statement.format(
                busy=BUSY_CHAT,
                users=USERS_PER_CHAT,
                chats=CHATS,
                start=start,
                days=DAYS,
                events=MEMBER_EVENTS,
            )
        )
    console.print(f"  reactions and member events written ({time.perf_counter() - started:.0f} s)")
    for statement in _ROLLUPS:
        await connection.execute(statement.format(zone=ZONE))
    for statement in _group_rollups():
        await connection.execute(statement)
    await connection.execute("ANALYZE")
    console.print(f"  rollups and ANALYZE done ({time.perf_counter() - started:.0f} s)")
    await connection.close()


async def count_words(url: str, console: Console) -> None:
    """The words and hashtags of the stored text, counted as ingest counts them."""
    started = time.perf_counter()
    engine = create_engine(url)
    async with engine.begin() as connection:
        texts = await recount_words(connection)
        await connection.execute(text("ANALYZE chat_words_daily, chat_hashtags_daily"))
    await engine.dispose()
    console.print(f"  words of {texts:,} texts counted ({time.perf_counter() - started:.0f} s)")


Timed = Callable[[], Awaitable[object]]


async def _time(call: Timed) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


def _p(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94]


def _group_calls(stats: ModuleType, pool: asyncpg.Pool, period: Any) -> dict[str, Timed]:
    """The group reports of ``stats`` (a ``tally.chatstore.read``) for the busiest chat over
    ``period`` (its busiest member: user 1)."""
    calls: dict[str, Timed] = {
        "content": partial(stats.content_breakdown, pool, BUSY_CHAT, period),
        "reactions": partial(stats.reaction_stats, pool, BUSY_CHAT, period),
        "replies": partial(stats.reply_stats, pool, BUSY_CHAT, period),
        "topics": partial(stats.topic_activity, pool, BUSY_CHAT, period),
        "member flow": partial(stats.member_flow, pool, BUSY_CHAT, period),
        "member (/user)": partial(stats.member_stats, pool, BUSY_CHAT, 1, period),
        "top words": partial(stats.top_words, pool, BUSY_CHAT, period),
    }
    for by in stats.MEASURES:
        calls[f"top by {by}"] = partial(stats.top_members, pool, BUSY_CHAT, period, by)
    return calls


def _calls(stats: ModuleType, pool: asyncpg.Pool) -> dict[str, Timed]:
    """Every timed query of ``stats`` (a ``tally.chatstore.read``), over the last 90 days."""
    period = stats.Period.last_days(90, tz=stats.zone(ZONE), now=NOW)
    return {
        "summary": lambda: stats.summary(pool, chat_id=BUSY_CHAT, period=period),
        "timeseries": lambda: stats.timeseries(
            pool, chat_id=BUSY_CHAT, period=period, metric="messages", bucket="day"
        ),
        "heatmap": lambda: stats.heatmap(pool, chat_id=BUSY_CHAT, period=period),
        "users": lambda: stats.users(
            pool, chat_id=BUSY_CHAT, period=period, query=stats.UsersQuery(size=50)
        ),
        **_group_calls(stats, pool, period),
    }


def _base_read(revision: str) -> ModuleType:
    """``tally.chatstore.read`` as of git ``revision``, imported as ``bench_base_read`` (its
    own imports of itself renamed; the rest of Tally is this checkout's)."""
    folder = Path(tempfile.mkdtemp(prefix="tally-bench-base-"))
    package = "libs/chatstore/src/tally/chatstore/read"
    archive = subprocess.run(
        ["git", "archive", revision, package], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    target = (folder / package).rename(folder / "bench_base_read")
    for path in target.glob("*.py"):
        path.write_text(path.read_text().replace("tally.chatstore.read", "bench_base_read"))
    sys.path.insert(0, str(folder))
    return importlib.import_module("bench_base_read")


Samples = tuple[list[float], list[float], list[float]]
"""Milliseconds of each round: the query, its raw-table twin, the base revision's query."""


async def measure(pool: asyncpg.Pool) -> dict[str, Samples]:
    """Each query (those named in BENCH_ONLY, comma-separated, when set), the base revision's
    (BENCH_BASE, when set) and its raw-table twin (:data:`_RAW`), ROUNDS times each,
    alternating, so all see the same load."""
    period = chat_stats.Period.last_days(90, tz=chat_stats.zone(ZONE), now=NOW)
    args = (BUSY_CHAT, period.utc_start, period.utc_end, ZONE)
    calls = _calls(chat_stats, pool)
    bases = _calls(_base_read(BASE), pool) if BASE else {}
    results: dict[str, Samples] = {}
    for name, call in calls.items():
        if ONLY and name not in ONLY:
            continue
        tally: list[float] = []
        raw: list[float] = []
        base: list[float] = []
        sql = _RAW[name]
        bound = args if "$4" in sql else args[:3]
        if WARMUP:
            await call()
            if bases:
                await bases[name]()
            await pool.fetch(sql, *bound)
        for number in range(ROUNDS):
            if bases and number % 2:  # every other round first, so neither gains by its place
                base.append(await _time(bases[name]))
            tally.append(await _time(call))
            if bases and not number % 2:
                base.append(await _time(bases[name]))
            raw.append(await _time(partial(pool.fetch, sql, *bound)))
        results[name] = (tally, raw, base)
    return results


async def main() -> None:
    console = Console(width=150)
    stack = Stack(
        CliSettings(tally_home=Path(tempfile.mkdtemp(prefix="tally-bench-dash-"))), console
    )
    try:
        await bench(console, stack.start_servers().database_url)
    finally:
        await stack.stop()


async def _filled(dsn: dict[str, Any]) -> bool:
    """True when the database of ``dsn`` holds a complete fill of this size and version."""
    connection = await asyncpg.connect(**dsn)
    try:
        if await connection.fetchval("SELECT to_regclass('bench_fill')") is None:
            return False
        found = await connection.fetchrow("SELECT version, messages, chats FROM bench_fill")
        return found is not None and tuple(found) == (FILL_VERSION, MESSAGES, CHATS)
    finally:
        await connection.close()


async def _mark_filled(dsn: dict[str, Any]) -> None:
    connection = await asyncpg.connect(**dsn)
    try:
        await connection.execute(
            "CREATE TABLE bench_fill (version text, messages bigint, chats int)"
        )
        await connection.execute(
            "INSERT INTO bench_fill VALUES ($1, $2, $3)", FILL_VERSION, MESSAGES, CHATS
        )
    finally:
        await connection.close()


async def _vacuum(dsn: dict[str, Any], console: Console) -> None:
    """VACUUM ANALYZE: the tables as autovacuum keeps them (the fill's and the migrations'
    updates leave dead rows in the rollups; a kept fill is vacuumed again, a no-op then)."""
    started = time.perf_counter()
    connection = await asyncpg.connect(**dsn)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    console.print(f"  VACUUM ANALYZE done ({time.perf_counter() - started:.0f} s)")


def _commit() -> str:
    found = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() or "unknown"


async def bench(console: Console, server: str) -> None:
    """Fill a database on ``server``, measure, print. The database is fresh and dropped after,
    unless BENCH_KEEP=1: then it is ``tally_bench_chats_keep_<messages>_<chats>``, kept, and
    filled only when its ``bench_fill`` marker does not match this fill (FILL_VERSION, size);
    migrations newer than the fill are applied to it (their backfills fill new rollups)."""
    kept = os.environ.get("BENCH_KEEP_AS") or f"keep_{MESSAGES}_{CHATS}"
    name = kept if KEEP else uuid4().hex[:8]
    url = make_url(server).set(database=f"tally_bench_chats_{name}")
    rendered = url.render_as_string(hide_password=False)
    owner = asyncpg_dsn(rendered)
    await ensure_database(rendered)
    filled = KEEP and await _filled(owner)
    if KEEP and not filled:  # a fill of another size or version, or an unfinished one
        await drop_database(rendered)
        await ensure_database(rendered)
    started = time.perf_counter()
    if not (filled and os.environ.get("BENCH_MIGRATE") == "0"):
        await asyncio.to_thread(migrate, rendered)  # Alembic runs its own event loop
    console.print(f"dashboard bench: {MESSAGES:,} messages in {CHATS} chats over {DAYS} days")
    if filled:
        console.print(f"  kept fill reused ({time.perf_counter() - started:.0f} s)")
    try:
        if not filled:
            await fill(owner, console)
            await count_words(rendered, console)
            if KEEP:
                await _mark_filled(owner)
        await _vacuum(owner, console)
        reader = {**owner, "user": "tally_reader"}
        pool = await asyncpg.create_pool(
            **reader,
            min_size=1,
            max_size=2,
            server_settings={"default_transaction_read_only": "on"},
        )
        before = os.getloadavg()
        results = await measure(pool)
        after = os.getloadavg()
        await pool.close()
    finally:
        if not KEEP:
            await drop_database(rendered)
    console.print(
        f"commit {_commit()}; load average (1, 5, 15 min) before measuring"
        f" {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}, after"
        f" {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}"
    )
    table = Table(
        title=f"dashboard, busiest chat ({MESSAGES // 3:,} of {MESSAGES:,} messages), last 90 days"
    )
    based = ("base p50 ms", "base p95 ms") if BASE else ()
    for column in (
        "query",
        "tally p50 ms",
        "tally p95 ms",
        *based,
        "raw p50 ms",
        "raw p95 ms",
        "raw / rollups (p95)",
    ):
        table.add_column(column)
    for name, (tally, raw, base) in results.items():
        t50, t95 = _p(tally)
        r50, r95 = _p(raw)
        b = [f"{value:.2f}" for value in _p(base)] if base else []
        table.add_row(
            name, f"{t50:.2f}", f"{t95:.2f}", *b, f"{r50:.1f}", f"{r95:.1f}", f"{r95 / t95:.1f}x"
        )
    if BASE:
        console.print(f"base: tally.chatstore.read of {BASE}")
    console.print(table)


if __name__ == "__main__":
    uvloop.run(main())
