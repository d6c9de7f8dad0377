"""The tests' own queries, run as the database owner: the reference an API is held to."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


class ReferenceSql:
    """Runs SQL written in a test, with named parameters, on ``engine``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Every row, as a dict by column name."""
        async with self.engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return [dict(row) for row in result.mappings()]

    async def value(self, sql: str, **params: Any) -> Any:
        """The first column of the first row."""
        rows = await self.rows(sql, **params)
        return next(iter(rows[0].values()))
