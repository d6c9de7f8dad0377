"""The tables and columns LLM-written SQL may read: ``videos`` and ``video_snapshots``,
column for column as in :mod:`tally.infra.db.models` (so a new column shows up here); and
the names of every table in the database, which no CTE may take."""

import re

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlglot import MappingSchema

from tally.infra.db.models import Base, Video, VideoSnapshot

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped


def _columns(table: Table) -> dict[str, str]:
    return {column.name: column.type.compile(dialect=_DIALECT) for column in table.columns}


CATALOG: dict[str, dict[str, str]] = {
    name: _columns(Base.metadata.tables[name])
    for name in (Video.__tablename__, VideoSnapshot.__tablename__)
}
"""Table name -> column name -> PostgreSQL type, the schema sqlglot resolves columns against."""

CATALOG_COLUMNS: frozenset[str] = frozenset(
    name for columns in CATALOG.values() for name in columns
)
"""Every column name of every catalog table."""

SCHEMA = MappingSchema(dict[str, object](CATALOG), dialect="postgres")
"""CATALOG as sqlglot's schema, for resolving every column of a query to its table."""

DATABASE_TABLES: frozenset[str] = frozenset({*Base.metadata.tables, "alembic_version"})
"""Every table the migrations create (the models' tables and Alembic's own)."""

_PARTITION = re.compile(r"messages_\d{4}_\d{2}")
"""Monthly partitions of ``messages`` (``tally.chatstore.write.partitions.partition_name``)."""


def is_database_name(name: str) -> bool:
    """True when ``name`` (any case) is a table of the database, a partition of ``messages``
    or a system catalog's (``pg_*``): a CTE of that name could be taken for the table."""
    lowered = name.lower()
    return (
        lowered in DATABASE_TABLES
        or _PARTITION.fullmatch(lowered) is not None
        or lowered.startswith("pg_")
    )
