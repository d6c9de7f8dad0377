"""The dashboard's read-only connection pool (as ``tally_reader``, like the executor's).

Every session has ``default_transaction_read_only=on`` and ``statement_timeout`` as server
settings, so a write fails and a long query is cancelled without an extra round trip. The
pool is made on first use, so the dashboard starts while PostgreSQL is down (and is not
ready until it answers).
"""

import asyncio

import asyncpg
import structlog

from tally.dashboard.config import DashboardSettings
from tally.infra.db.session import asyncpg_dsn
from tally.infra.errors import UserFacingError

log = structlog.get_logger(__name__)

DATABASE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What PostgreSQL (or the way to it) raises when it fails."""


class DatabaseUnavailableError(UserFacingError):
    """PostgreSQL did not answer, or failed for a reason of its own."""


class Reader:
    """A lazily made pool of read-only connections."""

    def __init__(self, settings: DashboardSettings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None
        self._connecting = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        """The pool; raises DatabaseUnavailableError when PostgreSQL cannot be reached."""
        async with self._connecting:
            if self._pool is None:
                self._pool = await self._connect()
        return self._pool

    async def _connect(self) -> asyncpg.Pool:
        server_settings = {
            "default_transaction_read_only": "on",
            "statement_timeout": str(self.settings.statement_timeout_ms),
            "application_name": "tally-dashboard",
        }
        try:
            return await asyncpg.create_pool(
                **asyncpg_dsn(self.settings.reader_url),
                min_size=1,
                max_size=self.settings.pool_size,
                server_settings=server_settings,
                timeout=5,
            )
        except DATABASE_ERRORS as error:
            # The class and SQLSTATE only: a database's message can quote stored values.
            sqlstate = getattr(error, "sqlstate", None)
            log.error("database unreachable", error=type(error).__name__, sqlstate=sqlstate)
            raise DatabaseUnavailableError("The database is not answering.") from error

    async def answers(self) -> bool:
        """True when ``SELECT 1`` succeeds (the readiness check)."""
        try:
            pool = await self.pool()
            return bool(await pool.fetchval("SELECT 1") == 1)
        except (DatabaseUnavailableError, *DATABASE_ERRORS):
            return False

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
