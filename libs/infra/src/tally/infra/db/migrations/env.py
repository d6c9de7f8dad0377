"""Alembic environment: runs the migrations on asyncpg, or writes them as SQL (``--sql``).

The URL is the one :mod:`tally.infra.db.revisions` passes (``config.attributes["url"]``),
else ``DATABASE_URL`` (``alembic`` run by hand with the repository's ``alembic.ini``).
Offline (``--sql``) there is no database to ask whether TimescaleDB is available: the SQL
is for plain PostgreSQL unless ``-x timescaledb=true`` (attribute ``timescaledb``) says so.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tally.infra.db.models import Base
from tally.infra.settings import CommonSettings, to_asyncpg_url

target_metadata = Base.metadata
if context.config.config_file_name is not None:  # alembic.ini: its logging for the CLI
    fileConfig(context.config.config_file_name)


def _url() -> str:
    url = context.config.attributes.get("url") or CommonSettings().database_url
    return to_asyncpg_url(url).render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
