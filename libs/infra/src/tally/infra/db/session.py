"""Engines and database housekeeping (create a database, wait for it, migrate it)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import asyncpg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tally.infra.db.revisions import MIGRATIONS as MIGRATIONS
from tally.infra.db.revisions import upgrade
from tally.infra.settings import to_asyncpg_url


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An async engine on asyncpg for ``url`` (any postgresql scheme is accepted)."""
    return create_async_engine(to_asyncpg_url(url), pool_pre_ping=True, **kwargs)


def asyncpg_dsn(url: str | URL) -> dict[str, Any]:
    """Keyword arguments for ``asyncpg.connect`` equivalent to ``url``."""
    parsed = make_url(url) if isinstance(url, str) else url
    kwargs: dict[str, Any] = {
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database,
        "host": parsed.query.get("host", parsed.host),
        "port": parsed.port,
    }
    return {key: value for key, value in kwargs.items() if value is not None}


async def wait_for_database(url: str | URL, *, timeout_s: float = 30.0) -> None:
    """Return once PostgreSQL accepts a connection; raise TimeoutError after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            connection = await asyncpg.connect(**asyncpg_dsn(url), timeout=5)
        except (OSError, asyncpg.PostgresError) as error:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"database did not answer within {timeout_s} s") from error
            await asyncio.sleep(0.5)
        else:
            await connection.close()
            return


async def ensure_database(url: str | URL) -> bool:
    """Create the database named in ``url`` when it is missing; True when it was created."""
    parsed = make_url(url) if isinstance(url, str) else url
    admin = await asyncpg.connect(**asyncpg_dsn(parsed.set(database="postgres")))
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
        return not exists
    finally:
        await admin.close()


async def drop_database(url: str | URL) -> None:
    """Drop the database named in ``url`` (its sessions closed by force); no error when absent."""
    parsed = make_url(url) if isinstance(url, str) else url
    admin = await asyncpg.connect(**asyncpg_dsn(parsed.set(database="postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def scratch_database(
    server_url: str | URL, prefix: str, *, migrated: bool = True
) -> AsyncIterator[str]:
    """A new database ``<prefix>_<12 hex>`` on the server of ``server_url`` (migrated to the
    latest revision unless ``migrated`` is False); its URL. Dropped on exit, whatever
    happened, also when creating or migrating it failed."""
    parsed = make_url(server_url) if isinstance(server_url, str) else server_url
    rendered = parsed.set(database=f"{prefix}_{uuid4().hex[:12]}").render_as_string(
        hide_password=False
    )
    try:
        await ensure_database(rendered)
        if migrated:
            await asyncio.to_thread(migrate, rendered)
        yield rendered
    finally:
        await drop_database(rendered)


def migrate(url: str | URL, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision`` (blocking; call from a thread)."""
    upgrade(url, revision)
