"""Runs compiled plans on PostgreSQL: read-only role, read-only transactions, statement timeout."""

import time
from decimal import Decimal

import asyncpg
import structlog
from opentelemetry import trace
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.common.db.session import create_engine
from tally.common.errors import UserFacingError
from tally.executor.config import ExecutorSettings
from tally.executor.domain.compiler import CompiledQuery

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("tally.executor")


class QueryTimeoutError(UserFacingError):
    """The statement ran past the statement timeout."""


class DatabaseUnavailableError(UserFacingError):
    """PostgreSQL did not answer or refused the statement."""


def create_reader_engine(settings: ExecutorSettings) -> AsyncEngine:
    """An engine whose every session is read-only and bounded by the statement timeout.

    Both are set as server settings of each connection, so they hold for every transaction
    without an extra round trip.
    """
    server_settings = {
        "default_transaction_read_only": "on",
        "statement_timeout": str(settings.statement_timeout_ms),
        "application_name": "tally-executor",
    }
    return create_engine(
        settings.reader_url,
        pool_size=settings.pool_size,
        connect_args={"server_settings": server_settings},
    )


def _number(value: object) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int | float):
        return value
    raise TypeError(f"measure returned {type(value).__name__}, not a number")


async def run_query(engine: AsyncEngine, query: CompiledQuery) -> tuple[int | float | None, float]:
    """Run ``query``; return (value, elapsed ms).

    Raises QueryTimeoutError past the statement timeout and DatabaseUnavailableError when
    PostgreSQL cannot be reached or rejects the statement.
    """
    started = time.perf_counter()
    try:
        with tracer.start_as_current_span("SELECT", attributes={"db.statement": query.sql}):
            async with engine.connect() as connection:
                value = (await connection.execute(query.statement)).scalar_one()
    except DBAPIError as error:
        if isinstance(error.orig, asyncpg.QueryCanceledError) or "QueryCanceled" in repr(error):
            raise QueryTimeoutError("The question took too long to answer; try a narrower one.") from error
        log.error("query failed", error=str(error.orig)[:300])
        raise DatabaseUnavailableError("The database is not answering right now; try again in a minute.") from error
    except (OSError, OperationalError) as error:
        log.error("database unreachable", error=str(error)[:300])
        raise DatabaseUnavailableError("The database is not answering right now; try again in a minute.") from error
    return _number(value), (time.perf_counter() - started) * 1000


async def database_answers(engine: AsyncEngine) -> bool:
    """True when a trivial read-only query succeeds (the readiness check)."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, DBAPIError, OperationalError):
        return False
    return True
