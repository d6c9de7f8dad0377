"""Runs compiled plans on PostgreSQL: read-only role, read-only sessions, statement timeout.

Statements are built and compiled with SQLAlchemy Core (see ``domain.compiler``) and run on
an asyncpg pool, one statement per call with no explicit transaction: each runs in its own
implicit transaction, which the session's ``default_transaction_read_only`` makes read-only.
"""

import time
from decimal import Decimal
from typing import Any

import asyncpg
import structlog
from opentelemetry import trace

from tally.common.db.session import asyncpg_dsn
from tally.common.errors import UserFacingError
from tally.executor.config import ExecutorSettings
from tally.executor.domain.compiler import CompiledQuery

log = structlog.get_logger(__name__)
tracer = trace.get_tracer("tally.executor")
UNAVAILABLE = "The database is not answering right now; try again in a minute."


class QueryTimeoutError(UserFacingError):
    """The statement ran past the statement timeout."""


class DatabaseUnavailableError(UserFacingError):
    """PostgreSQL did not answer or refused the statement."""


def _number(value: object) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int | float):
        return value
    raise TypeError(f"measure returned {type(value).__name__}, not a number")


class Reader:
    """A pool of read-only connections as the ``tally_reader`` role.

    Every session has ``default_transaction_read_only=on`` and ``statement_timeout`` set as
    server settings, so both hold for every statement without an extra round trip.
    """

    def __init__(self, settings: ExecutorSettings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None

    async def _connect(self) -> asyncpg.Pool:
        server_settings = {
            "default_transaction_read_only": "on",
            "statement_timeout": str(self.settings.statement_timeout_ms),
            "application_name": "tally-executor",
        }
        return await asyncpg.create_pool(
            **asyncpg_dsn(self.settings.reader_url),
            min_size=1,
            max_size=self.settings.pool_size,
            server_settings=server_settings,
            timeout=5,
        )

    async def pool(self) -> asyncpg.Pool:
        """The pool, connected on first use (so the executor starts while PostgreSQL is down).

        Raises DatabaseUnavailableError when PostgreSQL cannot be reached.
        """
        if self._pool is None:
            try:
                self._pool = await self._connect()
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                log.error("database unreachable", error=str(error)[:300])
                raise DatabaseUnavailableError(UNAVAILABLE) from error
        return self._pool

    async def fetch_value(self, sql: str, *args: Any) -> Any:
        """The first column of the first row of ``sql``; raises QueryTimeoutError past the
        statement timeout and DatabaseUnavailableError when PostgreSQL fails."""
        pool = await self.pool()
        try:
            return await pool.fetchval(sql, *args)
        except asyncpg.QueryCanceledError as error:
            raise QueryTimeoutError(
                "The question took too long to answer; try a narrower one."
            ) from error
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
            log.error("query failed", error=str(error)[:300])
            raise DatabaseUnavailableError(UNAVAILABLE) from error

    async def run(self, query: CompiledQuery) -> tuple[int | float | None, float]:
        """Run ``query``; return (value, elapsed ms). Errors as in :meth:`fetch_value`."""
        started = time.perf_counter()
        with tracer.start_as_current_span("SELECT", attributes={"db.statement": query.sql}):
            value = await self.fetch_value(query.sql, *query.args)
        return _number(value), (time.perf_counter() - started) * 1000

    async def answers(self) -> bool:
        """True when a trivial query succeeds (the readiness check)."""
        try:
            return bool(await self.fetch_value("SELECT 1") == 1)
        except UserFacingError:
            return False

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
