"""Runs SQL on PostgreSQL: read-only role, read-only sessions, statement timeout.

Three layers hold for every statement, whoever wrote it:

* the login is a role that may read only what its statements need: ``tally_reader`` for
  plans (the video and chat tables), ``tally_llm`` for LLM-written SQL (``videos`` and
  ``video_snapshots`` only, migration 0008; see :meth:`Reader.sibling`);
* every session has ``default_transaction_read_only=on`` and ``statement_timeout`` as
  server settings, so a write fails and a long query is cancelled without a round trip;
  and every call has one wall-clock deadline of the same length over all its round trips
  (a cursor's pages included), past which the statement is cancelled;
* plans (SQLAlchemy Core, see ``domain.compiler``) run one statement per call in its own
  implicit transaction (a grouped plan's rows are bounded by its LIMIT or time range); SQL
  that passed the firewall (``domain.firewall``) runs in an explicit ``BEGIN READ ONLY``
  transaction (what ``SET TRANSACTION READ ONLY`` sets), through a cursor that stops once
  the rows exceed a byte budget.

Each statement is a client span (opentelemetry-instrumentation-asyncpg, see
:func:`tally.infra.db.tracing.instrument_asyncpg`), a child of the consume span of the message
that asked for it; the span carries the statement text, never the bound values. Failures
become fixed sentences by SQLSTATE and log lines carry only the SQLSTATE and the query's
fingerprint (:mod:`tally.executor.failures`).
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import structlog
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy.engine import URL

from tally.executor.config import ExecutorSettings
from tally.executor.domain.coverage import SnapshotSpan
from tally.executor.failures import (
    TOO_LONG,
    QueryTimeoutError,
    ResultTooLargeError,
    fingerprint,
    translated,
)
from tally.infra.db import reader as db
from tally.infra.db.reader import UNAVAILABLE, DatabaseUnavailableError
from tally.semantic.compiler import CompiledQuery
from tally.semantic.results import as_number

log = structlog.get_logger(__name__)
FETCH_ROWS = 100
"""Rows fetched per round trip when reading LLM-written SQL's result (one span each)."""
SPAN_TTL_S = 60.0
"""Seconds the snapshots' span is reused before it is read again."""


async def _reset_untraced(connection: asyncpg.Connection) -> None:
    """What the pool runs on a connection given back (``Connection.reset``'s query), without a
    span: it is housekeeping, not a statement anyone asked for."""
    if query := connection.get_reset_query():
        with suppress_instrumentation():
            await connection.execute(query)


def _text_size(record: Any) -> int:
    return sum(len(str(value)) for value in record)


async def _read_only_rows(connection: Any, sql: str, max_bytes: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    size = 0
    async with connection.transaction(readonly=True):
        cursor = await connection.cursor(sql)
        while records := await cursor.fetch(FETCH_ROWS):
            for record in records:
                size += _text_size(record)
                if size > max_bytes:
                    raise ResultTooLargeError(
                        f"The result is larger than {max_bytes:,} characters; ask for less."
                    )
                rows.append(tuple(record))
    return rows


class Reader(db.Reader):
    """The executor's read-only pool (:class:`tally.infra.db.reader.Reader`) as one role
    (``tally_reader`` by default), with the statements plans and LLM-written SQL run.

    Every session has ``default_transaction_read_only=on`` and ``statement_timeout`` set as
    server settings, so both hold for every statement without an extra round trip; a
    connection given back to the pool is reset without a span.
    """

    def __init__(
        self,
        settings: ExecutorSettings,
        *,
        url: URL | None = None,
        pool_size: int | None = None,
        application_name: str = "tally-executor",
    ) -> None:
        """A reader logging in as ``url`` (default: ``settings.reader_url``) with at most
        ``pool_size`` connections (default: ``settings.pool_size``)."""
        super().__init__(
            url or settings.reader_url,
            statement_timeout_ms=settings.statement_timeout_ms,
            pool_size=pool_size or settings.pool_size,
            application_name=application_name,
            unavailable=UNAVAILABLE,
            reset=_reset_untraced,
        )
        self.settings = settings
        self._span: tuple[float, SnapshotSpan] | None = None
        self._siblings: list[Reader] = []

    def sibling(self, url: URL, *, pool_size: int, application_name: str) -> "Reader":
        """A reader with these settings logging in as ``url`` (another role), at most
        ``pool_size`` connections, connected on first use; :meth:`close` closes it too."""
        sibling = Reader(
            self.settings, url=url, pool_size=pool_size, application_name=application_name
        )
        self._siblings.append(sibling)
        return sibling

    @asynccontextmanager
    async def _deadline(self, sql: str) -> AsyncIterator[None]:
        """One wall-clock deadline, ``statement_timeout_ms``, over everything inside (every
        page of a cursor included), on top of the server's per-statement timeout. Past it the
        task is cancelled, which makes asyncpg cancel the statement on the server, and
        QueryTimeoutError is raised; other failures as :func:`translated` makes them."""
        deadline = asyncio.timeout(self.statement_timeout_ms / 1000)
        try:
            async with deadline:
                with translated(sql):
                    yield
        except (TimeoutError, DatabaseUnavailableError):
            if not deadline.expired():
                raise
            log.warning("query past its deadline", query=fingerprint(sql))
            raise QueryTimeoutError(TOO_LONG) from None

    async def fetch_value(self, sql: str, *args: Any) -> Any:
        """The first column of the first row of ``sql``; raises QueryTimeoutError past the
        deadline or the statement timeout, QueryRejectedError when PostgreSQL refuses the
        statement and DatabaseUnavailableError when PostgreSQL fails, each with a fixed
        sentence (:mod:`tally.executor.failures`), never the database's words."""
        pool = await self.pool()
        async with self._deadline(sql):
            return await pool.fetchval(sql, *args)

    async def fetch_rows(self, sql: str, *, max_bytes: int) -> tuple[list[tuple[Any, ...]], float]:
        """Every row of ``sql`` (which must cap its own rows, e.g. with LIMIT) and the elapsed
        ms, run in a ``BEGIN READ ONLY`` transaction, all its pages within one deadline.

        Raises ResultTooLargeError once the rows' text passes ``max_bytes`` characters (the
        rest is never fetched), and the errors of :meth:`fetch_value`.
        """
        pool = await self.pool()
        started = time.perf_counter()
        async with self._deadline(sql), pool.acquire() as connection:
            rows = await _read_only_rows(connection, sql, max_bytes)
        return rows, (time.perf_counter() - started) * 1000

    async def fetch_all(self, sql: str, *args: Any) -> tuple[list[tuple[Any, ...]], float]:
        """Every row of ``sql`` (a compiled plan's, whose rows its LIMIT or time range bound)
        with ``args`` bound, and the elapsed ms. Errors as in :meth:`fetch_value`."""
        pool = await self.pool()
        started = time.perf_counter()
        async with self._deadline(sql):
            records = await pool.fetch(sql, *args)
        return [tuple(record) for record in records], (time.perf_counter() - started) * 1000

    async def run(self, query: CompiledQuery) -> tuple[int | float | None, float]:
        """Run ``query``; return (value, elapsed ms). Errors as in :meth:`fetch_value`."""
        started = time.perf_counter()
        value = await self.fetch_value(query.sql, *query.args)
        return as_number(value), (time.perf_counter() - started) * 1000

    async def snapshot_span(self) -> SnapshotSpan:
        """The first and last hourly snapshot's time, read at most once a minute (snapshots
        arrive hourly). Errors as in :meth:`fetch_value`."""
        now = time.monotonic()
        if self._span is None or now - self._span[0] > SPAN_TTL_S:
            pool = await self.pool()
            sql = "SELECT min(created_at), max(created_at) FROM video_snapshots"
            async with self._deadline(sql):
                row = await pool.fetchrow(sql)
            self._span = (now, SnapshotSpan(first=row[0], last=row[1]))
        return self._span[1]

    async def close(self) -> None:
        """Close the pool and every :meth:`sibling`'s (each made again on next use)."""
        for sibling in self._siblings:
            await sibling.close()
        await super().close()
