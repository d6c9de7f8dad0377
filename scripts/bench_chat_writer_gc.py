"""Garbage collection's share of the chat events write path, in CPU time (issue 17).

Parses and writes N generated chat events (``tally seed-chats``, 10 chats, 1,000 users) in
batches of 2,000 with ``parse_chat_events`` and ``ChatWriter.write_isolating``
(:func:`timed_writes`), in this process, on a fresh database; no NATS. Reports this process's
CPU time (``time.process_time``: PostgreSQL's is not in it, and other tenants' load does not
count) and the part of it spent in collections (``gc.callbacks``), under one of three collector
settings: CPython's defaults, ``gc.freeze()`` after start-up, or that plus a youngest-
generation threshold (what ``tally.runtime.service.run_service`` sets). Also reports the CPU
time of the PostgreSQL backends serving the bench's database (``/proc/<pid>/stat`` utime +
stime of the processes titled ``postgres: … <database> …``; needs the server on this machine,
else it reads 0), so that work moved from Python into SQL shows. The wall time of the writes is
given too; it is what ``WAYS`` (``ChatWriter.ways``, as ingest's ``CHAT_WRITE_CONNECTIONS``; 1
by default) can change, by writing each batch's chats in that many concurrent transactions.
Usage::

    [WAYS=2] uv run python scripts/bench_chat_writer_gc.py [N] [default|freeze|freeze+threshold]
"""

import asyncio
import gc
import os
import sys
import time
from datetime import date
from typing import Any
from uuid import uuid4

import uvloop
from sqlalchemy.engine import URL, make_url

from tally.chatstore.write.batch import parse_chat_events
from tally.chatstore.write.writer import ChatWriter
from tally.cli.seed_chats import generate_chat_events
from tally.contracts.subjects import Subjects
from tally.infra.db.session import create_engine, drop_database, ensure_database, migrate
from tally.runtime.service import GC_YOUNG_THRESHOLD

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 60_000
MODE = sys.argv[2] if len(sys.argv) > 2 else "freeze+threshold"
WAYS = int(os.environ.get("WAYS", "1"))
DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend of ``database`` on this machine."""
    ticks, found = os.sysconf("SC_CLK_TCK"), {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as title:
                if f" {database} ".encode() not in title.read():
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(pid)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


class Collections:
    """CPU seconds spent in collections, and how many were full ones."""

    def __init__(self) -> None:
        self.seconds, self.full, self._started = 0.0, 0, 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time()
            return
        self.seconds += time.process_time() - self._started
        self.full += info["generation"] == 2


async def bench_database(name: str) -> URL:
    """A fresh database ``<name>_<random>`` on DATABASE_URL's server, migrated; its URL (drop
    it with ``drop_database``)."""
    url = make_url(DATABASE_URL).set(database=f"{name}_{uuid4().hex[:8]}")
    database = url.render_as_string(hide_password=False)
    await ensure_database(database)
    await asyncio.to_thread(migrate, database)
    return url


def seed_bodies(subjects: Subjects, count: int) -> list[tuple[str, bytes]]:
    """The first ``count`` events (by time) of ten generated chats (1,000 users, 240 days up to
    2025-11-30) as (subject, JSON body), as they arrive on CHAT_EVENTS."""
    events = generate_chat_events(end=date(2025, 11, 30), chats=10, users=1000, days=240, seed=1)
    return [
        (subjects.chat_event(e.chat_id, e.kind), e.model_dump_json().encode())
        for e in events[:count]
    ]


async def timed_writes(
    writer: ChatWriter, bodies: list[tuple[str, bytes]], subjects: Subjects, database: str
) -> tuple[float, float, float]:
    """Parse and write ``bodies`` in fetches of 2,000 (``ChatWriter.write_isolating``, as
    ingest does); (this process's CPU seconds, wall seconds, CPU seconds of ``database``'s
    PostgreSQL backends, see :func:`backends_cpu`) it took."""
    before = backends_cpu(database)
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(bodies), 2000):
        valid, _ = parse_chat_events(bodies[start : start + 2000], subjects)
        await writer.write_isolating([event for _, event in valid])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = backends_cpu(database)
    return cpu, wall, sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


async def main() -> None:
    url = await bench_database("tally_bench")
    database = url.render_as_string(hide_password=False)
    subjects = Subjects("benchgc")
    bodies = seed_bodies(subjects, EVENTS)
    engine = create_engine(database)
    writer = ChatWriter(engine, ways=WAYS)
    try:
        await writer.layout()
        gc.collect()
        if MODE != "default":
            gc.freeze()
        if MODE == "freeze+threshold":
            gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        collections = Collections()
        gc.callbacks.append(collections)
        cpu, wall, postgres = await timed_writes(writer, bodies, subjects, url.database or "")
        gc.callbacks.remove(collections)
    finally:
        await engine.dispose()
        await drop_database(database)
    print(
        f"{MODE}: {len(bodies):,} events, {cpu:.2f} s CPU ({1e6 * cpu / len(bodies):.1f} µs/event,"
        f" {len(bodies) / cpu:,.0f} events per CPU second); collections {collections.seconds:.2f} s"
        f" ({100 * collections.seconds / cpu:.0f} %), {collections.full} full;"
        f" PostgreSQL {postgres:.2f} s CPU ({1e6 * postgres / len(bodies):.1f} µs/event);"
        f" wall {wall:.2f} s ({1e6 * wall / len(bodies):.1f} µs/event, {WAYS} way(s))"
    )


if __name__ == "__main__":
    uvloop.run(main())
