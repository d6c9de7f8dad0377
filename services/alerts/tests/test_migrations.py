"""Migration 0005 on a fresh database: upgrade from 0004 creates the alert tables with their
constraints, downgrade removes them, and upgrading again works."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic import command
from alembic.config import Config

from tally.infra.db.session import MIGRATIONS, asyncpg_dsn, migrate, scratch_database
from tally.infra.settings import to_asyncpg_url

TABLES = {"alert_history", "alert_silences", "alert_watches"}


@pytest.fixture
async def fresh_url(server_database_url: str) -> AsyncIterator[str]:
    """An empty database of its own, dropped afterwards."""
    async with scratch_database(server_database_url, "tally_mig", migrated=False) as rendered:
        yield rendered


def _downgrade(url: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = to_asyncpg_url(url)
    command.downgrade(config, revision)


async def _tables(url: str) -> set[str]:
    connection = await asyncpg.connect(**asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'alert_%'"
        )
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


async def test_0005_up_down_up(fresh_url: str) -> None:
    """0004 has no alert tables; head has them, with the event check; 0004 again drops them."""
    await asyncio.to_thread(migrate, fresh_url, "0004")
    assert await _tables(fresh_url) == set()
    await asyncio.to_thread(migrate, fresh_url)
    assert await _tables(fresh_url) == TABLES
    connection = await asyncpg.connect(**asyncpg_dsn(fresh_url))
    try:
        await connection.execute(
            "INSERT INTO alert_history (at, fingerprint, alertname, labels, event)"
            " VALUES (now(), '0123456789abcdef', 'X', '{}', 'fired')"
        )
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "INSERT INTO alert_history (at, fingerprint, alertname, labels, event)"
                " VALUES (now(), '0123456789abcdef', 'X', '{}', 'exploded')"
            )
        watch = await connection.fetchrow(
            "INSERT INTO alert_watches (rule, created_by) VALUES ('{}', 1) RETURNING *"
        )
        assert watch["enabled"] and watch["chat_id"] is None and watch["id"] >= 1
    finally:
        await connection.close()
    await asyncio.to_thread(_downgrade, fresh_url, "0004")
    assert await _tables(fresh_url) == set()
    await asyncio.to_thread(migrate, fresh_url)
    assert await _tables(fresh_url) == TABLES
