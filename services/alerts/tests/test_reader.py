"""The alerts service's database reader (data alerts' measures) on real PostgreSQL: the
``tally_reader`` login, read-only sessions, a statement timeout."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.config import AlertsSettings
from tally.alerts.watches import reader_engine
from tally.infra.db.models import READER_ROLE
from tally.infra.settings import CommonSettings


@pytest.fixture
async def reader(settings: CommonSettings) -> AsyncIterator[AsyncEngine]:
    engine = reader_engine(AlertsSettings(**settings.model_dump(), statement_timeout_ms=200))
    yield engine
    await engine.dispose()


async def test_sessions_are_read_only_with_a_statement_timeout(reader: AsyncEngine) -> None:
    """Every session logs in as tally_reader with default_transaction_read_only=on and
    statement_timeout set by the server settings."""
    async with reader.connect() as connection:
        user = await connection.scalar(text("SELECT current_user"))
        read_only = await connection.scalar(text("SHOW default_transaction_read_only"))
        timeout = await connection.scalar(text("SHOW statement_timeout"))
    assert (user, read_only, timeout) == (READER_ROLE, "on", "200ms")


async def test_a_write_fails_in_a_read_only_transaction(reader: AsyncEngine) -> None:
    """Even a write the role might be granted is refused: the transaction is read-only."""
    async with reader.connect() as connection:
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await connection.execute(text("CREATE TEMPORARY TABLE scratch (n int)"))


async def test_a_long_statement_is_cancelled(reader: AsyncEngine) -> None:
    """A statement past the timeout is cancelled by PostgreSQL (SQLSTATE 57014)."""
    async with reader.connect() as connection:
        with pytest.raises(DBAPIError, match="statement timeout"):
            await connection.execute(text("SELECT pg_sleep(2)"))


def test_an_explicit_reader_login_wins() -> None:
    """ALERTS_READER_DATABASE_URL (a secret) is used as given; unset, DATABASE_URL as
    tally_reader without the owner's password."""
    explicit = AlertsSettings(alerts_reader_database_url="postgresql://tally_reader:pw@db/tally")
    assert explicit.reader_url.password == "pw" and "pw" not in repr(explicit)
    derived = AlertsSettings(database_url="postgresql://owner:secret@db:5432/tally")
    assert derived.reader_url.username == READER_ROLE and derived.reader_url.password is None
