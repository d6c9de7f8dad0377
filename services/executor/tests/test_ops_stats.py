"""The admins' report figures on real PostgreSQL, as ``tally_ops``, checked against the same
figures computed here in Python from the rows themselves (read as the owner).

The database is shared by the whole test run, so the references are computed over every row
in the window, and the rows written here are checked to be among them.
"""

import math
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tally.executor import ops_stats
from tally.executor.app import ops_reader
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.settings import CommonSettings, to_asyncpg_url
from tests.factories.chat_rows import ChatRows, remove_chats
from tests.factories.ops_rows import OpsRows
from tests.factories.reference import ReferenceSql

NOW = datetime.now(UTC)
SINCE = NOW - timedelta(hours=24)
CHAT = -100_700_001
REFUSED = "I can't tell which videos you mean; name a creator or a date."
FAILED = "The database is not answering right now; try again in a minute."
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture(scope="module")
async def rows(settings: CommonSettings) -> AsyncIterator[OpsRows]:
    """Six people's questions over the last 40 days, three chat messages and two video
    snapshots in the last day (and one of each older); removed afterwards."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    async with engine.begin() as connection:
        made = OpsRows(connection)
        await made.user(93_001, first_seen_at=NOW - 60 * D)
        await made.user(93_002, first_seen_at=NOW - 10 * D)
        await made.user(93_003, first_seen_at=NOW - 2 * H)
        await made.user(93_004, first_seen_at=NOW - 6 * D)
        q = made.question
        videos_count = ("videos", "count")
        await q(93_001, NOW - H, total_ms=120, elapsed_ms=30, plan=videos_count, feedback="up")
        snapshots_sum = ("video_snapshots", "sum")
        await q(
            93_001, NOW - 3 * H, total_ms=300, elapsed_ms=50, plan=snapshots_sum, feedback="down"
        )
        await q(
            93_002,
            NOW - 2 * H,
            outcome="refused",
            total_ms=40,
            language="ru",
            engine=None,
            reason=REFUSED,
        )
        await q(93_002, NOW - 5 * H, total_ms=900, engine="llm", plan=videos_count)
        await q(
            93_003,
            NOW - H / 2,
            outcome="failed",
            total_ms=2000,
            elapsed_ms=1500,
            plan=videos_count,
            reason=FAILED,
        )
        await q(93_003, NOW - 10 * H, outcome="ambiguous", total_ms=60)
        await q(93_001, NOW - 30 * H, outcome="refused", total_ms=10, reason=REFUSED)
        await q(93_004, NOW - 5 * D, total_ms=500, plan=("videos", "max"))
        await q(93_005, NOW - 20 * D, total_ms=700)
        await q(93_006, NOW - 40 * D, total_ms=800)
        await made.video([NOW - 2 * H, NOW - H, NOW - 48 * H])
        chat = ChatRows(connection, CHAT)
        await chat.create(title="Ops", first_seen_at=NOW - 60 * D)
        for message_id, age in enumerate([H, 2 * H, 20 * H, 30 * H], start=1):
            await chat.message(message_id, 93_001, NOW - age)
    yield made
    await made.remove(engine)
    await remove_chats(engine, [CHAT], [], chat.partitions)
    await engine.dispose()


@pytest.fixture(scope="module")
async def reference(settings: CommonSettings) -> AsyncIterator[ReferenceSql]:
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    yield ReferenceSql(engine)
    await engine.dispose()


@pytest.fixture(scope="module")
async def ops(settings: CommonSettings, rows: OpsRows) -> AsyncIterator[asyncpg.Pool]:
    """The executor's ops pool (``tally_ops``, read-only sessions)."""
    reader = ops_reader(ExecutorSettings(**settings.model_dump()))
    yield await reader.pool()
    await reader.close()


async def _window(reference: ReferenceSql, since: datetime = SINCE) -> list[dict[str, Any]]:
    return await reference.rows(
        "SELECT * FROM questions WHERE asked_at > :since AND asked_at <= :until",
        since=since,
        until=NOW,
    )


def _percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (what percentile_cont computes)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def test_summary_matches_the_rows(
    ops: asyncpg.Pool, reference: ReferenceSql, rows: OpsRows
) -> None:
    """Counts by outcome, askers, latency percentiles of total_ms (and of elapsed_ms where a
    query ran) and feedback equal what the window's rows say."""
    found = await ops_stats.question_summary(ops, since=SINCE, until=NOW)
    window = await _window(reference)
    assert set(rows.question_ids[:6]) <= {row["id"] for row in window}
    outcomes = Counter(row["outcome"] for row in window)
    totals = [row["total_ms"] for row in window]
    db_times = [row["elapsed_ms"] for row in window if row["elapsed_ms"] > 0]
    feedback = Counter(row["feedback"] for row in window)
    assert found.total == len(window) >= 6
    assert (found.answered, found.refused, found.failed, found.ambiguous) == (
        outcomes["answered"],
        outcomes["refused"],
        outcomes["failed"],
        outcomes["ambiguous"],
    )
    assert found.users == len({row["user_id"] for row in window})
    assert found.p50_ms == pytest.approx(_percentile(totals, 0.5))
    assert found.p95_ms == pytest.approx(_percentile(totals, 0.95))
    assert found.p99_ms == pytest.approx(_percentile(totals, 0.99))
    assert found.max_ms == pytest.approx(max(totals))
    assert found.db_p50_ms == pytest.approx(_percentile(db_times, 0.5))
    assert found.db_p95_ms == pytest.approx(_percentile(db_times, 0.95))
    assert found.db_queries == len(db_times)
    assert (found.thumbs_up, found.thumbs_down) == (feedback["up"], feedback["down"])


async def test_active_new_and_returning_users(
    ops: asyncpg.Pool, reference: ReferenceSql, rows: OpsRows
) -> None:
    """DAU, WAU, MAU are distinct askers of the last 1, 7, 30 days; new users were first seen
    in the window; returning ones asked in it but were first seen before it."""
    found = await ops_stats.active_users(ops, since=SINCE, until=NOW)
    month = await _window(reference, NOW - 30 * D)
    askers = {
        days: {row["user_id"] for row in month if row["asked_at"] > NOW - days * D}
        for days in (1, 7, 30)
    }
    assert {93_001, 93_002, 93_003} <= askers[1] and 93_004 in askers[7] - askers[1]
    assert 93_005 in askers[30] - askers[7] and 93_006 not in askers[30]
    assert (found.dau, found.wau, found.mau) == (len(askers[1]), len(askers[7]), len(askers[30]))
    users = await reference.rows("SELECT user_id, first_seen_at FROM bot_users")
    first_seen = {row["user_id"]: row["first_seen_at"] for row in users}
    new = {user for user, at in first_seen.items() if SINCE < at <= NOW}
    assert 93_003 in new and found.new == len(new)
    returning = {user for user in askers[1] if user in first_seen and first_seen[user] <= SINCE}
    assert {93_001, 93_002} <= returning and found.returning == len(returning)
    assert found.known == len(users)


async def test_top_question_types_and_refusal_reasons(
    ops: asyncpg.Pool, reference: ReferenceSql, rows: OpsRows
) -> None:
    """The five most asked dataset · aggregate pairs and refusal reasons, most first."""
    window = await _window(reference)
    kinds = Counter(
        f"{row['plan']['dataset']} · {row['plan']['measure']['aggregate']}"
        for row in window
        if row["plan"] is not None
    )
    found = await ops_stats.question_types(ops, since=SINCE, until=NOW)
    expected = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert [(item.label, item.count) for item in found] == expected
    assert kinds["videos · count"] >= 3
    reasons = Counter(row["reason"][:80] for row in window if row["outcome"] == "refused")
    found_reasons = await ops_stats.refusal_reasons(ops, since=SINCE, until=NOW)
    expected_reasons = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert [(item.label, item.count) for item in found_reasons] == expected_reasons
    assert reasons[REFUSED[:80]] >= 1


@pytest.mark.parametrize("by", ["outcome", "language", "engine"])
async def test_breakdowns(
    ops: asyncpg.Pool, reference: ReferenceSql, rows: OpsRows, by: ops_stats.Breakdown
) -> None:
    """Questions of the window by outcome, language and engine ("none" when unset)."""
    counts = Counter(row[by] or "none" for row in await _window(reference))
    found = await ops_stats.breakdown(ops, by, since=SINCE, until=NOW)
    assert [(item.label, item.count) for item in found] == sorted(
        counts.items(), key=lambda item: (-item[1], item[0])
    )[:10]


async def test_ingest_volume(ops: asyncpg.Pool, reference: ReferenceSql, rows: OpsRows) -> None:
    """Chat messages sent and video snapshots taken in the window (older ones left out)."""
    found = await ops_stats.ingest_volume(ops, since=SINCE, until=NOW)
    messages = await reference.rows("SELECT chat_id, sent_at FROM messages")
    snapshots = await reference.rows("SELECT video_id, created_at FROM video_snapshots")
    recent = [row for row in messages if SINCE < row["sent_at"] <= NOW]
    assert sum(1 for row in recent if row["chat_id"] == CHAT) == 3
    assert found.messages == len(recent)
    taken = [row for row in snapshots if SINCE < row["created_at"] <= NOW]
    assert sum(1 for row in taken if row["video_id"] in rows.video_ids) == 2
    assert found.video_snapshots == len(taken)


async def test_database_size_and_connections(ops: asyncpg.Pool, reference: ReferenceSql) -> None:
    """Size within 10% of pg_database_size now; at least this pool's connection counted."""
    found = await ops_stats.database_size(ops)
    size = await reference.value("SELECT pg_database_size(current_database())")
    assert found.bytes == pytest.approx(size, rel=0.1)
    assert 1 <= found.connections <= found.max_connections
    assert found.max_connections == int(await reference.value("SHOW max_connections"))


async def test_the_ops_role_reads_the_log_but_the_plans_role_does_not(
    ops: asyncpg.Pool, settings: CommonSettings
) -> None:
    """``tally_ops`` reads the questions log in read-only sessions; ``tally_reader`` (plans and
    LLM-written SQL) still cannot read it."""
    assert await ops.fetchval("SELECT current_user") == "tally_ops"
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await ops.execute("DELETE FROM questions WHERE false")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await ops.fetchval("SELECT count(*) FROM users")
    reader = Reader(ExecutorSettings(**settings.model_dump()))
    try:
        pool = await reader.pool()
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.fetchval("SELECT count(*) FROM questions")
    finally:
        await reader.close()
