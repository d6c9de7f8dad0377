"""Every migration undone and done again on a database of its own leaves the schema exactly as
before; the models and the migrations describe the same schema (``alembic check``); the SQL
written offline (``--sql``) covers every migration."""

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tally.infra.db import revisions
from tally.infra.db.session import asyncpg_dsn, scratch_database

ROOT = Path(__file__).parents[3]

SCHEMA = """
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' '
       || coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's'::"char"
                                                       ELSE 'r'::"char" END, c.relowner))::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'trigger ' || t.tgname || ' ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND NOT t.tgisinternal
UNION ALL
SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') '
       || md5(p.prosrc)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND t.typrelid = 0
UNION ALL
SELECT 'schema grant ' || coalesce(nspacl, acldefault('n'::"char", nspowner))::text
  FROM pg_namespace WHERE nspname = 'public'
"""
"""One line per relation (with its grants, the default ones spelt out), column, constraint,
index, trigger, function (its body's digest) and type of the public schema: what a migration
creates or drops (Alembic's own ``alembic_version`` left out)."""


@pytest.fixture
async def empty_url(server_database_url: str) -> AsyncIterator[str]:
    async with scratch_database(server_database_url, "tally_mig", migrated=False) as url:
        yield url


async def _schema(url: str) -> set[str]:
    connection = await asyncpg.connect(**asyncpg_dsn(url))
    try:
        rows = await connection.fetch(SCHEMA)
    finally:
        await connection.close()
    return {row[0] for row in rows if "alembic_version" not in row[0]}


async def _at(url: str) -> str:
    out = io.StringIO()
    await asyncio.to_thread(revisions.current, url, out=out)
    return out.getvalue().split(" ")[0].strip()


async def test_every_migration_down_and_up_again(empty_url: str) -> None:
    """For each revision in turn: upgrade to it, downgrade one step (the schema is the one
    before, to the grant), upgrade again (the schema is the one after)."""
    before = await _schema(empty_url)
    previous = "base"
    for revision in revisions.revisions():
        await asyncio.to_thread(revisions.upgrade, empty_url, revision)
        after = await _schema(empty_url)
        assert after != before, f"{revision} changed nothing"
        await asyncio.to_thread(revisions.downgrade, empty_url, previous)
        undone = await _schema(empty_url)
        left, lost = sorted(undone - before), sorted(before - undone)
        assert undone == before, f"downgrade of {revision} left {left}, lost {lost}"
        assert await _at(empty_url) == ("" if previous == "base" else previous)
        await asyncio.to_thread(revisions.upgrade, empty_url, revision)
        assert await _schema(empty_url) == after, f"{revision} up again differs"
        assert await _at(empty_url) == revision
        before, previous = after, revision


async def test_models_match_the_migrations(empty_url: str) -> None:
    """``alembic check``, run as an operator would with the repository's ``alembic.ini`` on a
    database at head: the models need no new migration."""
    await asyncio.to_thread(revisions.upgrade, empty_url)
    checked = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "check"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": empty_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    assert "No new upgrade operations detected" in checked.stdout


def test_offline_sql_covers_every_migration() -> None:
    """``--sql`` writes every revision's SQL, ending at head, with no database."""
    out = io.StringIO()
    revisions.upgrade(None, sql=True, out=out)
    sql = out.getvalue()
    for revision in revisions.revisions()[1:]:
        assert f"version_num='{revision}'" in sql
    assert (
        "VALUES ('0001')" in sql and "CREATE TABLE videos" in sql and "create_hypertable" not in sql
    )
    out = io.StringIO()
    revisions.upgrade(None, "0002:0003", sql=True, out=out, timescaledb=True)
    assert "create_hypertable('messages'" in out.getvalue()
