"""Database writes of video batches: idempotent upserts with SQLAlchemy Core, one transaction.

Raises ``sqlalchemy.exc.SQLAlchemyError`` (or ``OSError`` when the server is unreachable) on
failure, after rolling its transaction back.
"""

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tally.infra.db.models import Video, VideoSnapshot
from tally.ingest.videos.domain.rows import Row, chunks

VIDEOS: Table = Video.__table__  # type: ignore[assignment]
SNAPSHOTS: Table = VideoSnapshot.__table__  # type: ignore[assignment]


async def _upsert(connection: AsyncConnection, table: Table, rows: Sequence[Row]) -> None:
    """``INSERT … ON CONFLICT (id) DO UPDATE`` every column of ``rows``.

    SQLAlchemy sends an executemany as multi-row ``INSERT … VALUES (…), (…)`` statements
    ("insertmanyvalues"); chunks keep each under asyncpg's bind-parameter limit.
    """
    if not rows:
        return
    statement = insert(table)
    updates = {name: statement.excluded[name] for name in rows[0] if name != "id"}
    upsert = statement.on_conflict_do_update(index_elements=["id"], set_=updates)
    for chunk in chunks(rows, columns=len(rows[0])):
        await connection.execute(upsert, list(chunk))


async def upsert_videos(
    *, engine: AsyncEngine, videos: Sequence[Row], snapshots: Sequence[Row]
) -> None:
    """Upsert ``videos`` then ``snapshots`` in one transaction (all or nothing).

    Raises ``sqlalchemy.exc.IntegrityError`` when a snapshot's video is in neither the table
    nor ``videos``.
    """
    async with engine.begin() as connection:
        await _upsert(connection, VIDEOS, videos)
        await _upsert(connection, SNAPSHOTS, snapshots)
