"""Storage helpers for the chat tables that more than one service needs.

``messages`` is partitioned by month (migration 0003): a row can only be written once its
month's partition exists. :func:`ensure_message_partitions` creates the missing ones; under
TimescaleDB (``messages`` is a hypertable) it does nothing, since chunks are automatic.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def month_start(moment: datetime) -> date:
    """The first day of ``moment``'s month in UTC: the month of its ``messages`` partition."""
    return moment.astimezone(UTC).date().replace(day=1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def partition_name(first: date) -> str:
    """``messages_2025_11`` for November 2025."""
    return f"messages_{first:%Y_%m}"


async def is_partitioned(connection: AsyncConnection) -> bool:
    """True when ``messages`` is a declaratively partitioned table (plain PostgreSQL)."""
    found = await connection.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'messages'::regclass")
    )
    return found.first() is not None


async def ensure_message_partitions(
    connection: AsyncConnection, months: Iterable[date]
) -> list[str]:
    """Create the monthly partitions of ``messages`` for ``months`` (first days, UTC) that do
    not exist yet; return the names created. The range of a partition is
    ``[first 00:00 UTC, first of next month 00:00 UTC)``. Safe to call concurrently."""
    created = []
    for first in sorted(set(months)):
        name = partition_name(first)
        exists = await connection.execute(text("SELECT to_regclass(:name)"), {"name": name})
        if exists.scalar() is not None:
            continue
        start, end = first.isoformat(), _next_month(first).isoformat()
        await connection.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF messages "
                f"FOR VALUES FROM ('{start} 00:00+00') TO ('{end} 00:00+00')"
            )
        )
        created.append(name)
    return created
