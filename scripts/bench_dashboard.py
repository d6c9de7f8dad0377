"""``make bench`` (dashboard part): chat statistics latency over millions of messages.

A fresh database (``tally_bench_chats_<hex>`` on DATABASE_URL, or the embedded server when
it is unset) is
filled with ``BENCH_MESSAGES`` messages (default 10,000,000) in ``BENCH_CHATS`` chats (a third
in the busiest; up to 500 members each, a few of them writing most) over a year, written
with ``generate_series`` (ingest's path is measured by the ingest bench); the
rollups are then computed with GROUP BY over the raw rows, as ingest would have kept them.

For the busiest chat and its last 90 local days, each of the dashboard's queries
(tally.chatstore.read: summary, daily timeseries, heatmap, first users page) is timed
``ROUNDS`` times as the read-only role, alternating with the same question asked of the raw
``messages`` table, so both see the same load. Prints p50/p95 ms of each and the ratio.
"""

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import uvloop
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from tally.chatstore import read as chat_stats
from tally.chatstore.read import Period, UsersQuery
from tally.cli.config import CliSettings
from tally.cli.up import Stack
from tally.infra.db.session import asyncpg_dsn, drop_database, ensure_database, migrate

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "10000000"))
CHATS = int(os.environ.get("BENCH_CHATS", "20"))
USERS_PER_CHAT = 500
"""Each chat has its own hundreds of members, as ``tally seed-chats`` makes them."""
DAYS = 365
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "60"))
ZONE = "Europe/Berlin"
NOW = datetime(2025, 12, 31, 12, tzinfo=UTC)
BUSY_CHAT = -100_900_001
"""The first chat; it gets a third of all messages."""

_FILL = """
INSERT INTO messages (chat_id, message_id, sent_at, user_id, message_type, text_length,
                      word_count, forwarded, links, mentions, hashtags)
SELECT chat, n,
       timestamptz '{start}' + (random() ^ 0.7) * interval '{days} days',
       ({busy} - chat) * 1000 + 1 + floor(random() * random() * {users})::int,
       'text', 40, 1 + (n % 17), false, 0, 0, 0
FROM (SELECT n, CASE WHEN n % 3 = 0 THEN {busy} ELSE {busy} - 1 - (n % ({chats} - 1)) END AS chat
      FROM generate_series({first}, {last}) AS n) AS numbered
"""
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
)
_RAW: dict[str, str] = {
    "summary": """SELECT count(*), count(DISTINCT user_id) FROM messages
                  WHERE chat_id = $1 AND sent_at >= $2 AND sent_at < $3""",
    "timeseries": """SELECT (sent_at AT TIME ZONE $4)::date, count(*) FROM messages
                     WHERE chat_id = $1 AND sent_at >= $2 AND sent_at < $3 GROUP BY 1""",
    "heatmap": """SELECT extract(isodow FROM sent_at AT TIME ZONE $4),
                         extract(hour FROM sent_at AT TIME ZONE $4), count(*) FROM messages
                  WHERE chat_id = $1 AND sent_at >= $2 AND sent_at < $3 GROUP BY 1, 2""",
    "users": """SELECT user_id, count(*), count(DISTINCT (sent_at AT TIME ZONE $4)::date)
                FROM messages WHERE chat_id = $1 AND sent_at >= $2 AND sent_at < $3
                GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50""",
}


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
    for statement in _ROLLUPS:
        await connection.execute(statement.format(zone=ZONE))
    await connection.execute("ANALYZE")
    console.print(f"  rollups and ANALYZE done ({time.perf_counter() - started:.0f} s)")
    await connection.close()


Timed = Callable[[], Awaitable[object]]


async def _time(call: Timed) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


def _p(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94]


async def measure(pool: asyncpg.Pool) -> dict[str, tuple[list[float], list[float]]]:
    """Each dashboard query and its raw-table twin, ROUNDS times each, alternating."""
    period = Period.last_days(90, tz=chat_stats.zone(ZONE), now=NOW)
    args = (BUSY_CHAT, period.utc_start, period.utc_end, ZONE)
    calls: dict[str, Timed] = {
        "summary": lambda: chat_stats.summary(pool, chat_id=BUSY_CHAT, period=period),
        "timeseries": lambda: chat_stats.timeseries(
            pool, chat_id=BUSY_CHAT, period=period, metric="messages", bucket="day"
        ),
        "heatmap": lambda: chat_stats.heatmap(pool, chat_id=BUSY_CHAT, period=period),
        "users": lambda: chat_stats.users(
            pool, chat_id=BUSY_CHAT, period=period, query=UsersQuery(size=50)
        ),
    }
    results: dict[str, tuple[list[float], list[float]]] = {}
    for name, call in calls.items():
        tally: list[float] = []
        raw: list[float] = []
        sql = _RAW[name]
        bound = args if "$4" in sql else args[:3]
        for _ in range(ROUNDS):
            tally.append(await _time(call))
            raw.append(await _time(partial(pool.fetch, sql, *bound)))
        results[name] = (tally, raw)
    return results


async def main() -> None:
    console = Console()
    stack = Stack(
        CliSettings(tally_home=Path(tempfile.mkdtemp(prefix="tally-bench-dash-"))), console
    )
    try:
        await bench(console, stack.start_servers().database_url)
    finally:
        await stack.stop()


async def bench(console: Console, server: str) -> None:
    """Fill a fresh database on ``server``, measure, print; the database is dropped after."""
    url = make_url(server).set(database=f"tally_bench_chats_{uuid4().hex[:8]}")
    rendered = url.render_as_string(hide_password=False)
    await ensure_database(rendered)
    await asyncio.to_thread(migrate, rendered)  # Alembic runs its own event loop
    console.print(f"dashboard bench: {MESSAGES:,} messages in {CHATS} chats over {DAYS} days")
    try:
        await fill(asyncpg_dsn(rendered), console)
        reader = {**asyncpg_dsn(rendered), "user": "tally_reader"}
        pool = await asyncpg.create_pool(
            **reader,
            min_size=1,
            max_size=2,
            server_settings={"default_transaction_read_only": "on"},
        )
        results = await measure(pool)
        await pool.close()
    finally:
        await drop_database(rendered)
    table = Table(
        title=f"dashboard, busiest chat ({MESSAGES // 3:,} of {MESSAGES:,} messages), last 90 days"
    )
    for column in (
        "query",
        "rollups p50 ms",
        "rollups p95 ms",
        "raw p50 ms",
        "raw p95 ms",
        "raw / rollups (p95)",
    ):
        table.add_column(column)
    for name, (tally, raw) in results.items():
        (t50, t95), (r50, r95) = _p(tally), _p(raw)
        table.add_row(
            name, f"{t50:.2f}", f"{t95:.2f}", f"{r50:.1f}", f"{r95:.1f}", f"{r95 / t95:.1f}x"
        )
    console.print(table)


if __name__ == "__main__":
    uvloop.run(main())
