"""Running a statement on either kind of connection Tally holds.

The query functions take a :data:`Database`: an SQLAlchemy ``AsyncConnection``, or anything
with asyncpg's ``fetch(sql, *args)`` (an ``asyncpg.Connection`` or ``asyncpg.Pool``). For
asyncpg, a statement is compiled with SQLAlchemy's asyncpg dialect to ``$n`` placeholders;
every value stays a bound parameter, and each statement shape is compiled once.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache
from typing import Any, Protocol, TypeAlias, TypeVar, overload

import asyncpg
from sqlalchemy import Executable, Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ClauseElement

from tally.chatstore.tables import Row

Statement: TypeAlias = Select[*tuple[Any, ...]]
"""A SELECT of any columns."""


class Fetcher(Protocol):
    """What asyncpg's connections and pools offer."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...


Database = AsyncConnection | Fetcher
"""A connection the query functions can run on."""

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")
F = TypeVar("F")


@lru_cache(maxsize=1)
def _dialect() -> Dialect:
    return asyncpg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped


MAX_COMPILED = 2048
"""How many compiled statement shapes :func:`to_asyncpg` keeps (all are dropped when full)."""
_compiled: dict[Any, Compiled] = {}


def to_asyncpg(
    statement: ClauseElement, values: Mapping[str, Any] | None = None
) -> tuple[str, tuple[Any, ...]]:
    """``statement`` as asyncpg SQL (``$n`` placeholders) and its values in order; ``values``
    gives those of its bind parameters by name (a statement built once without them).

    The SQL of a statement's shape (SQLAlchemy's cache key: the statement without its values)
    is compiled once and kept: building the SQL of a report (the summary, a member's report)
    took longer than PostgreSQL took to answer it. A statement whose shape has no cache key
    or an expanding ``IN`` (whose SQL depends on the values) is compiled every time."""
    key = statement._generate_cache_key()
    if key is None or any(bind.expanding for bind in key.bindparams):
        compiled = statement.compile(
            dialect=_dialect(), compile_kwargs={"render_postcompile": True}
        )
        params = compiled.construct_params(params=values) if values else compiled.params
    else:
        if key.key not in _compiled:
            if len(_compiled) >= MAX_COMPILED:
                _compiled.clear()
            _compiled[key.key] = statement.compile(dialect=_dialect(), cache_key=key)
        compiled = _compiled[key.key]
        params = compiled.construct_params(params=values, extracted_parameters=key.bindparams)
    assert params is not None  # only a DDL statement has none
    order = getattr(compiled, "positiontup", None) or ()
    return compiled.string, tuple(params[name] for name in order)


async def fetch_all(
    db: Database, statement: Executable, values: Mapping[str, Any] | None = None
) -> list[Row]:
    """Every row of ``statement`` as a dict by column label; ``values``: those of its bind
    parameters by name, when it was built without them."""
    if isinstance(db, AsyncConnection):
        result = await db.execute(statement, dict(values) if values else None)
        return [dict(row) for row in result.mappings()]
    assert isinstance(statement, ClauseElement)
    sql, args = to_asyncpg(statement, values)
    return [dict(record.items()) for record in await db.fetch(sql, *args)]


async def fetch_one(
    db: Database, statement: Executable, values: Mapping[str, Any] | None = None
) -> Row | None:
    """The first row of ``statement`` (``values`` as for :func:`fetch_all`), or None when it
    has none."""
    rows = await fetch_all(db, statement, values)
    return rows[0] if rows else None


Part = Callable[[], Awaitable[T]]
"""A statement to run: called once, then awaited."""


@overload
async def together(db: Database, a: Part[A], b: Part[B], c: Part[C], /) -> tuple[A, B, C]: ...
@overload
async def together(
    db: Database, a: Part[A], b: Part[B], c: Part[C], d: Part[D], /
) -> tuple[A, B, C, D]: ...
@overload
async def together(
    db: Database, a: Part[A], b: Part[B], c: Part[C], d: Part[D], e: Part[E], f: Part[F], /
) -> tuple[A, B, C, D, E, F]: ...
async def together(db: Database, *parts: Part[Any]) -> tuple[Any, ...]:
    """The results of ``parts``, in order: run at the same time when ``db`` is an
    ``asyncpg.Pool`` (each statement takes a connection of its own, so a report waits for its
    slowest statement instead of their sum; the pool queues those past its size), one after
    the other on anything else (a connection runs one statement at a time). Either way each
    statement sees a snapshot of its own, as each did when a pool ran them one by one. The
    first error cancels the others and is raised as it is (not in an ``ExceptionGroup``)."""
    if not isinstance(db, asyncpg.Pool):
        return tuple([await part() for part in parts])
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(part)) for part in parts]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return tuple(task.result() for task in tasks)


async def _awaited(part: Part[T]) -> T:
    return await part()
