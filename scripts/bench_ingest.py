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

Consumer lag (messages in the stream not yet acknowledged by ``ingest-chats``) is sampled
every 0.25 s; the report gives its maximum and where it ended. Usage::

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

import nats
import uvloop
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from tally.cli.config import CliSettings
from tally.cli.embedded import free_port
from tally.cli.seed_chats import generate_chat_events, publish_chat_events
from tally.cli.up import Child, Stack, wait_ready
from tally.contracts.chat_events import ChatEvent
from tally.contracts.streams import delete_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.db.session import drop_database

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
BATCH = sys.argv[2] if len(sys.argv) > 2 else "500"
END = date(2025, 11, 30)


@dataclass
class Measure:
    """One measure: events, seconds, and the lag samples (messages not yet acknowledged)."""

    name: str
    events: int
    seconds: float = 0.0
    lags: list[int] = field(default_factory=list)

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


async def watch(js: JetStreamContext, subjects: Subjects, measure: Measure, target: int) -> None:
    """Sample the lag until ingest acknowledged stream sequence ``target``; set the time from
    the first acknowledgement after the call (or from the call, for the live measure)."""
    started = time.perf_counter()
    first_ack: float | None = None
    _, floor = await lag(js, subjects)
    while True:
        behind, acked = await lag(js, subjects)
        measure.lags.append(behind)
        if first_ack is None and acked > floor:
            first_ack = time.perf_counter()
        if acked >= target:
            origin = started if measure.name == "live" else (first_ack or started)
            measure.seconds = time.perf_counter() - origin
            return
        await asyncio.sleep(0.25)


async def stop(child: Child) -> None:
    """Stop a service process the way ``tally up`` does (SIGTERM, then wait)."""
    assert child.process is not None
    child.process.send_signal(signal.SIGTERM)
    await child.process.wait()


async def run(console: Console) -> list[Measure]:
    home = Path(tempfile.mkdtemp(prefix="tally-bench-ingest-"))
    settings = CliSettings(tally_home=home, subject_prefix=f"benchi{uuid4().hex[:8]}")
    if settings.database_url:
        url = make_url(settings.database_url).set(database=f"tally_bench_{uuid4().hex[:8]}")
        settings.database_url = url.render_as_string(hide_password=False)
    os.environ["CHAT_BATCH_SIZE"] = BATCH
    stack = Stack(settings, console)
    live, backlog = Measure("live", EVENTS), Measure("backlog", EVENTS)
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
        watching = asyncio.create_task(watch(js, subjects, live, EVENTS))
        await publish_chat_events(js, subjects, first)
        await watching
        await stop(ingest)
        started = time.perf_counter()
        await publish_chat_events(js, subjects, second)
        console.print(f"published {EVENTS:,} events in {time.perf_counter() - started:.1f} s")
        await stack.spawn(ingest)
        await watch(js, subjects, backlog, 2 * EVENTS)
        await delete_streams(js, subjects)  # 400,000 events are not worth keeping
        await client.close()
    finally:
        await stack.stop()
        if settings.database_url:
            await drop_database(settings.database_url)
    return [live, backlog]


def report(console: Console, measures: list[Measure]) -> None:
    table = Table(title=f"ingest: chat events -> PostgreSQL ({EVENTS:,} per measure)")
    for column in ("measure", "events/s", "seconds", "max lag", "lag at end"):
        table.add_column(column)
    for measure in measures:
        table.add_row(
            measure.name,
            f"{measure.rate:,.0f}",
            f"{measure.seconds:.1f}",
            f"{max(measure.lags):,}",
            f"{measure.lags[-1]:,}",
        )
    console.print(table)


async def main() -> None:
    console = Console()
    report(console, await run(console))


if __name__ == "__main__":
    uvloop.run(main())
