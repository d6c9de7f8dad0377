"""Running a statement on either kind of connection Tally holds.

The query functions take a :data:`Database`: an SQLAlchemy ``AsyncConnection``, or anything
with asyncpg's ``fetch(sql, *args)`` (an ``asyncpg.Connection`` or ``asyncpg.Pool``). For
asyncpg, a statement is compiled with SQLAlchemy's asyncpg dialect to ``$n`` placeholders;
every value stays a bound parameter.
"""

from functools import lru_cache
from typing import Any, Protocol, TypeAlias

from sqlalchemy import Executable, Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Dialect
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


@lru_cache(maxsize=1)
def _dialect() -> Dialect:
    return asyncpg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped


def to_asyncpg(statement: ClauseElement) -> tuple[str, tuple[Any, ...]]:
    """``statement`` as asyncpg SQL (``$n`` placeholders) and its values in order."""
    compiled = statement.compile(dialect=_dialect(), compile_kwargs={"render_postcompile": True})
    order = getattr(compiled, "positiontup", None) or ()
    return str(compiled), tuple(compiled.params[key] for key in order)


async def fetch_all(db: Database, statement: Executable) -> list[Row]:
    """Every row of ``statement`` as a dict by column label."""
    if isinstance(db, AsyncConnection):
        result = await db.execute(statement)
        return [dict(row) for row in result.mappings()]
    assert isinstance(statement, ClauseElement)
    sql, args = to_asyncpg(statement)
    return [dict(record.items()) for record in await db.fetch(sql, *args)]


async def fetch_one(db: Database, statement: Executable) -> Row | None:
    """The first row of ``statement``, or None when it has none."""
    rows = await fetch_all(db, statement)
    return rows[0] if rows else None
