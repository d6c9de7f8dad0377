"""``together``: a report's statements at the same time on a pool, one by one otherwise."""

import asyncio

import asyncpg
import pytest
from sqlalchemy import literal, select

from tally.chatstore.read import StatsRequestError
from tally.chatstore.read.connection import Database, fetch_one, together
from tally.infra.db.session import asyncpg_dsn


async def _value(db: Database, value: int) -> int:
    row = await fetch_one(db, select(literal(value).label("value")))
    assert row is not None
    return int(row["value"])


async def test_on_a_pool_the_parts_run_at_the_same_time(database_url: str) -> None:
    """The first part waits for the second to have run: one by one, it would wait forever."""
    pool = await asyncpg.create_pool(**asyncpg_dsn(database_url), min_size=1, max_size=3)
    second_ran = asyncio.Event()

    async def first() -> int:
        await second_ran.wait()
        return await _value(pool, 1)

    async def second() -> str:
        value = await _value(pool, 2)
        second_ran.set()
        return str(value)

    try:
        results = await asyncio.wait_for(
            together(pool, first, second, lambda: _value(pool, 3)), timeout=10
        )
    finally:
        await pool.close()
    assert results == (1, "2", 3)


async def test_on_one_connection_the_parts_run_one_after_the_other(database_url: str) -> None:
    connection = await asyncpg.connect(**asyncpg_dsn(database_url))
    steps: list[str] = []

    async def part(name: str) -> str:
        steps.append(f"{name} starts")
        value = await _value(connection, len(steps))
        steps.append(f"{name} ends")
        return f"{name}{value}"

    try:
        results = await together(
            connection, lambda: part("a"), lambda: part("b"), lambda: part("c")
        )
    finally:
        await connection.close()
    assert results == ("a1", "b3", "c5")
    assert steps == ["a starts", "a ends", "b starts", "b ends", "c starts", "c ends"]


async def test_on_a_pool_the_first_error_cancels_the_others_and_is_raised(
    database_url: str,
) -> None:
    pool = await asyncpg.create_pool(**asyncpg_dsn(database_url), min_size=1, max_size=3)
    cancelled = asyncio.Event()

    async def forever() -> int:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    async def refused() -> int:
        await _value(pool, 1)
        raise StatsRequestError("no such measure")

    try:
        with pytest.raises(StatsRequestError, match="no such measure"):
            await asyncio.wait_for(
                together(pool, forever, refused, lambda: _value(pool, 2)), timeout=10
            )
    finally:
        await pool.close()
    assert cancelled.is_set()
