"""Read-only access to PostgreSQL: one pool per login, every session read-only and bounded.

Every session has ``default_transaction_read_only=on`` and ``statement_timeout`` as server
settings (:func:`read_only_settings`), so a write fails and a long statement is cancelled by
PostgreSQL itself, without an extra round trip. :class:`Reader` is an asyncpg pool made on
first use (a service starts while PostgreSQL is down, and is not ready until it answers);
:func:`read_only_engine` is a SQLAlchemy engine with the same sessions, for callers that
build their queries with SQLAlchemy Core.

A failure to connect is :class:`DatabaseUnavailableError` with a fixed sentence: the
database's own text can quote stored values, so it reaches neither the user nor a log line
(:func:`diagnostic` says what a log line may carry).
"""

import asyncio
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.infra.db.session import asyncpg_dsn, create_engine
from tally.infra.errors import UserFacingError

log = structlog.get_logger(__name__)

DATABASE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
"""What PostgreSQL (or the way to it) raises when it fails."""
UNAVAILABLE = "The database is not answering right now; try again in a minute."
"""The default sentence of :class:`DatabaseUnavailableError`."""
CONNECT_TIMEOUT_S = 5.0
"""How long opening a connection may take (seconds)."""

Reset = Callable[[asyncpg.Connection], Awaitable[None]]
"""What the pool runs on a connection given back (asyncpg's ``reset`` hook)."""


class DatabaseUnavailableError(UserFacingError):
    """PostgreSQL did not answer, or failed for a reason of its own."""


def diagnostic(error: BaseException) -> dict[str, str]:
    """What a log line may say about ``error``: its class, its SQLSTATE when PostgreSQL
    raised it and where it was raised (``file.py:line``); never its message."""
    fields = {"error": type(error).__name__}
    if sqlstate := getattr(error, "sqlstate", None):
        fields["sqlstate"] = str(sqlstate)
    if frames := traceback.extract_tb(error.__traceback__):
        fields["at"] = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}"
    return fields


def read_only_settings(*, statement_timeout_ms: int, application_name: str) -> dict[str, str]:
    """PostgreSQL server settings of a read-only session: ``default_transaction_read_only``
    on, ``statement_timeout`` in ms, and the ``application_name`` shown in pg_stat_activity."""
    return {
        "default_transaction_read_only": "on",
        "statement_timeout": str(statement_timeout_ms),
        "application_name": application_name,
    }


def read_only_engine(
    url: URL, *, statement_timeout_ms: int, application_name: str, pool_size: int
) -> AsyncEngine:
    """A SQLAlchemy engine logged in as ``url`` with at most ``pool_size`` connections, its
    sessions as :func:`read_only_settings` makes them. The caller disposes of it."""
    settings = read_only_settings(
        statement_timeout_ms=statement_timeout_ms, application_name=application_name
    )
    return create_engine(url, pool_size=pool_size, connect_args={"server_settings": settings})


class Reader:
    """A lazily made asyncpg pool of read-only sessions, logged in as ``url``.

    ``statement_timeout_ms`` bounds every statement (server side) and :meth:`answers`;
    ``pool_size`` is the most connections; ``unavailable`` is the sentence of the
    :class:`DatabaseUnavailableError` raised when PostgreSQL cannot be reached; ``reset``
    replaces asyncpg's own reset of a connection given back to the pool.
    """

    def __init__(
        self,
        url: URL,
        *,
        statement_timeout_ms: int,
        pool_size: int,
        application_name: str,
        unavailable: str = UNAVAILABLE,
        reset: Reset | None = None,
    ) -> None:
        self.url = url
        self.statement_timeout_ms = statement_timeout_ms
        self.pool_size = pool_size
        self.application_name = application_name
        self.unavailable = unavailable
        self._reset = reset
        self._pool: asyncpg.Pool | None = None
        self._connecting = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        """The pool, connected on first use (once, however many ask at the same time).

        Raises DatabaseUnavailableError (with ``unavailable``) when PostgreSQL cannot be
        reached; the next call tries again.
        """
        async with self._connecting:
            if self._pool is None:
                self._pool = await self._connect()
        return self._pool

    async def _connect(self) -> asyncpg.Pool:
        settings = read_only_settings(
            statement_timeout_ms=self.statement_timeout_ms, application_name=self.application_name
        )
        extra: dict[str, Any] = {"reset": self._reset} if self._reset else {}
        try:
            return await asyncpg.create_pool(
                **asyncpg_dsn(self.url),
                min_size=1,
                max_size=self.pool_size,
                server_settings=settings,
                timeout=CONNECT_TIMEOUT_S,
                **extra,
            )
        except DATABASE_ERRORS as error:
            log.error("database unreachable", **diagnostic(error))
            raise DatabaseUnavailableError(self.unavailable) from None

    async def answers(self) -> bool:
        """True when ``SELECT 1`` returns 1 within ``statement_timeout_ms`` (the readiness
        check); False when PostgreSQL cannot be reached or fails."""
        try:
            pool = await self.pool()
            async with asyncio.timeout(self.statement_timeout_ms / 1000):
                return bool(await pool.fetchval("SELECT 1") == 1)
        except (DatabaseUnavailableError, *DATABASE_ERRORS):
            return False

    async def close(self) -> None:
        """Close the pool (made again on next use)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
