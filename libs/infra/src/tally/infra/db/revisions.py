"""The Alembic commands Tally runs on its migrations: upgrade, downgrade, current, history,
each either on a database or (``sql=True``) written as SQL for a DBA to apply.

All are blocking (call them from a thread in async code). Output that Alembic prints
(``current``, ``history``, the SQL of ``sql=True``) goes to ``out``, standard output by
default.
"""

import sys
from pathlib import Path
from typing import TextIO

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from tally.infra.settings import to_asyncpg_url

MIGRATIONS = Path(__file__).parent / "migrations"
"""The Alembic script directory (``env.py`` and ``versions/``)."""
OFFLINE_URL = "postgresql://"
"""What ``sql=True`` renders for without a database URL (only the dialect matters)."""


def alembic_config(
    url: str | URL | None, *, out: TextIO | None = None, timescaledb: bool = False
) -> Config:
    """An Alembic config for Tally's migrations on ``url`` (any postgresql scheme).

    ``timescaledb`` matters only to SQL written offline: migration 0003 then makes
    ``messages`` a hypertable instead of a table partitioned by month.
    """
    config = Config(stdout=out or sys.stdout, output_buffer=out or sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = to_asyncpg_url(url or OFFLINE_URL)
    config.attributes["timescaledb"] = timescaledb
    return config


def revisions() -> list[str]:
    """Every revision id, oldest first (one line of history: Tally's migrations never branch)."""
    script = ScriptDirectory.from_config(alembic_config(None))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def upgrade(
    url: str | URL | None,
    revision: str = "head",
    *,
    sql: bool = False,
    out: TextIO | None = None,
    timescaledb: bool = False,
) -> None:
    """Apply the migrations up to ``revision`` on ``url``; with ``sql``, write their SQL to
    ``out`` instead (``revision`` may then be a range ``FROM:TO``, e.g. ``0008:head``)."""
    config = alembic_config(url, out=out, timescaledb=timescaledb)
    command.upgrade(config, revision, sql=sql)


def downgrade(
    url: str | URL | None,
    revision: str,
    *,
    sql: bool = False,
    out: TextIO | None = None,
) -> None:
    """Undo the migrations after ``revision`` (``base`` undoes them all; ``-1`` one step) on
    ``url``; with ``sql``, write their SQL to ``out`` instead (``revision`` must then be a range
    ``FROM:TO``, e.g. ``0009:0008``: offline there is no database to say where it stands).

    Raises ``alembic.util.CommandError`` for an unknown revision or a missing range.
    """
    command.downgrade(alembic_config(url, out=out), revision, sql=sql)


def current(url: str | URL, *, out: TextIO | None = None, verbose: bool = False) -> None:
    """Write the revision ``url`` is at to ``out`` (nothing for a database never migrated)."""
    command.current(alembic_config(url, out=out), verbose=verbose)


def history(*, out: TextIO | None = None, verbose: bool = False) -> None:
    """Write every migration, newest first, to ``out`` (no database needed)."""
    command.history(alembic_config(None, out=out), verbose=verbose)
