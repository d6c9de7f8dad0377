"""What covering rollup indexes cost the chat writer in PostgreSQL (issue 17): an experiment.

Writes the first N generated chat events (``tally seed-chats``: 10 chats, 1,000 users) in
batches of 2,000 with ``ChatWriter.write_isolating`` into a fresh database, either as migrated
(``as-migrated``: every rollup's primary key, and some other indexes, INCLUDE its counts for
the dashboard's index-only reads, so no upsert of a stored row can be a HOT update) or with
those indexes made again without their INCLUDE columns and fillfactor 70 on every rollup table
(``hot``: updates that touch no indexed column and find room on their page are HOT). Prints
this process's CPU, the PostgreSQL backends' CPU (as ``bench_chat_writer_gc.py``) and the wall
time per event, with the updates and HOT updates ``pg_stat_user_tables`` counted (its counts
arrive late: read them as a share, not as totals). Nothing in Tally uses the ``hot`` layout;
the dashboard's figures at 10 M were measured with covering indexes. Usage::

    uv run python scripts/bench_rollup_hot.py N as-migrated|hot
"""

import sys
from pathlib import Path

import uvloop
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.writer import ChatWriter
from tally.contracts.subjects import Subjects
from tally.infra.db.session import create_engine, drop_database

sys.path.insert(0, str(Path(__file__).parent))
from bench_chat_writer_gc import (  # type: ignore[import-not-found]  # beside this one
    bench_database,
    seed_bodies,
    timed_writes,
)

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
VARIANT = sys.argv[2] if len(sys.argv) > 2 else "as-migrated"
RAW = (
    "messages",
    "member_events",
    "reactions",
    "reaction_counts",
    "chats",
    "users",
    "admin_audit",
    "questions",
    "videos",
    "video_snapshots",
)
ROLLUP = (
    "c.relname <> ALL(:raw) AND c.relname NOT LIKE 'messages%'"
    " AND c.relname NOT LIKE 'alembic%' AND n.nspname = 'public'"
)
"""The rollup tables of ``pg_class c`` (``pg_namespace n``): every table but the raw ones."""
COVERING = f"""
SELECT c.relname, i.relname, x.indisprimary, con.conname,
       (SELECT array_agg(a.attname ORDER BY k.ord)
          FROM unnest(x.indkey) WITH ORDINALITY AS k(att, ord)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.att
         WHERE k.ord <= x.indnkeyatts)
  FROM pg_index x
  JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid
 WHERE x.indnkeyatts < x.indnatts AND {ROLLUP}"""
"""Each rollup index with INCLUDE columns: table, index, primary key?, constraint, key columns."""
TABLES = f"""SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND {ROLLUP}"""


async def without_covering(engine: AsyncEngine) -> None:
    """Make every covering rollup index again on its key columns alone; fillfactor 70."""
    async with engine.begin() as connection:
        found = (await connection.execute(text(COVERING), {"raw": list(RAW)})).all()
        for table, index, primary, constraint, keys in found:
            columns = ", ".join(keys)
            if primary:
                drop = f"ALTER TABLE {table} DROP CONSTRAINT {constraint}"
                await connection.execute(text(f"{drop}, ADD PRIMARY KEY ({columns})"))
            else:
                await connection.execute(text(f"DROP INDEX {index}"))
                await connection.execute(text(f"CREATE INDEX {index} ON {table} ({columns})"))
        tables = (await connection.execute(text(TABLES), {"raw": list(RAW)})).scalars().all()
        for table in tables:
            await connection.execute(text(f"ALTER TABLE {table} SET (fillfactor = 70)"))
    print(f"{len(found)} indexes without INCLUDE, fillfactor 70 on {len(tables)} tables")


async def main() -> None:
    url = await bench_database("tally_hot")
    database = url.render_as_string(hide_password=False)
    subjects = Subjects("bench-hot")
    bodies = seed_bodies(subjects, EVENTS)
    engine = create_engine(database)
    writer = ChatWriter(engine)
    try:
        if VARIANT == "hot":
            await without_covering(engine)
        await writer.layout()
        cpu, wall, postgres = await timed_writes(writer, bodies, subjects, url.database or "")
        async with engine.connect() as connection:
            counted = "SELECT sum(n_tup_upd), sum(n_tup_hot_upd) FROM pg_stat_user_tables"
            updates, hot = (await connection.execute(text(counted))).one()
    finally:
        await engine.dispose()
        await drop_database(database)
    per_event = 1e6 / len(bodies)
    print(
        f"{VARIANT}: Python {cpu * per_event:.1f} µs/event, PostgreSQL"
        f" {postgres * per_event:.1f} µs/event, wall {wall * per_event:.1f} µs/event;"
        f" updates {updates}, HOT {hot}"
    )


if __name__ == "__main__":
    uvloop.run(main())
