"""Turn video batches into rows of ``videos`` and ``video_snapshots``.

Rows are plain dicts keyed by column name, ready for a multi-row SQLAlchemy Core insert.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from tally.contracts.events import VideoBatch

Row = dict[str, Any]
T = TypeVar("T")

POSTGRES_MAX_BIND_PARAMS = 32767
"""asyncpg (the PostgreSQL wire protocol) binds at most 32767 parameters per statement."""


def unique_by_id(records: Iterable[BaseModel]) -> list[Row]:
    """Rows of ``records``, the last one winning when an id repeats.

    PostgreSQL refuses an ``INSERT … ON CONFLICT DO UPDATE`` touching one row twice.
    """
    rows = {
        row["id"]: row for row in (record.model_dump(exclude={"version"}) for record in records)
    }
    return list(rows.values())


def batch_rows(batch: VideoBatch) -> tuple[list[Row], list[Row]]:
    """The ``videos`` rows and the ``video_snapshots`` rows of one batch."""
    return unique_by_id(batch.videos), unique_by_id(batch.snapshots)


def chunks(rows: Sequence[T], *, columns: int) -> Iterator[Sequence[T]]:
    """Slices of ``rows`` small enough that ``len(slice) * columns`` fits one statement."""
    size = max(1, POSTGRES_MAX_BIND_PARAMS // max(1, columns))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
