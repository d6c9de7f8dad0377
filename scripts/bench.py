"""``make bench``: question -> answer latency and throughput, beside the floor, in one run.

Tally: nl2sql, executor, ingest and alerts run as separate processes (as `tally up` runs
them) on NATS_URL / DATABASE_URL (embedded servers when unset), with the sample data
imported through ingest. The bench process plays the gateway: it publishes QuestionAsked and
waits for QuestionAnswered, cycling through seed 000's questions in English and Russian.

Floor, on the same machine in the same run: three raw nats-py request/replies to an echo
responder in another process, plus one raw asyncpg ``SELECT count(*) FROM videos``, i.e. the
transport and database cost of the three hops with no Tally code in them.

Prints p50/p99 latency (ms) of sequential questions, measured in slices alternating with
the floor's (so both see the same load from other tenants of the machine), the ratio of
the two p50s, and throughput (questions/s) with ``CONCURRENCY`` questions in flight.

All of it twice, each on a fresh start of the services: first with the answer cache off
(``ANSWER_CACHE=off``: every question reaches PostgreSQL, the figures comparable with earlier
runs), then with it on. The bench cycles ten questions, so with the cache on nearly every
answer is a cache hit; that run prints its hit ratio.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import uuid4

import asyncpg
import nats
import uvloop
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from tally.cli.client import Asker
from tally.cli.config import CliSettings
from tally.cli.importer import import_videos
from tally.cli.up import Stack
from tally.contracts.language import detect_language
from tally.infra.db.session import asyncpg_dsn, drop_database
from tally.infra.settings import CommonSettings
from tally.language import parse

QUESTIONS = [
    "How many videos are in the system?",
    "How many videos got more than 100,000 views?",
    "How many total likes do all videos have?",
    "How many videos were published in November 2025?",
    "How many videos gained views on November 28, 2025?",
    "What was the total view growth on November 27, 2025?",
    "Сколько всего видео есть в системе?",
    "Сколько видео набрало больше 100 000 просмотров за всё время?",
    "На сколько просмотров в сумме выросли все видео 28 ноября 2025?",
    "Сколько разных видео получали новые просмотры 27 ноября 2025?",
]
WARMUP, SEQUENTIAL, SLICE, THROUGHPUT, CONCURRENCY = 200, 2000, 100, 4000, 32
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "videos.json.gz"
ECHO = """
import asyncio, os, sys, nats, uvloop
async def main():
    login = {"user": os.environ["NATS_USER"], "password": os.environ["NATS_PASSWORD"]}
    nc = await nats.connect(sys.argv[1], **(login if "NATS_USER" in os.environ else {}))
    async def echo(msg): await msg.respond(msg.data)
    await nc.subscribe(sys.argv[2], cb=echo)
    print("ready", flush=True)
    await asyncio.Event().wait()
uvloop.run(main())
"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in ms, by the exclusive method of ``statistics.quantiles`` (n=100)."""
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def _login(common: CommonSettings) -> dict[str, str]:
    """NATS_USER and NATS_PASSWORD for the echo process (the operator's, under auth)."""
    auth = common.nats_auth()
    return {"NATS_USER": auth["user"], "NATS_PASSWORD": auth["password"]} if auth else {}


class Floor:
    """3 raw nats-py request/replies to an echo process + 1 raw asyncpg query, per sample."""

    def __init__(self, common: CommonSettings) -> None:
        self.common = common
        self.subject = f"{common.subject_prefix}.bench.echo.{uuid4().hex}"

    async def __aenter__(self) -> "Floor":
        self.echo = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
            [sys.executable, "-c", ECHO, self.common.nats_url, self.subject],
            env={**os.environ, **_login(self.common)},
            stdout=subprocess.PIPE,
        )
        assert self.echo.stdout and self.echo.stdout.readline().startswith(b"ready")
        self.client = await nats.connect(self.common.nats_servers(), **self.common.nats_auth())
        self.database = await asyncpg.connect(**asyncpg_dsn(self.common.database_url))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()
        await self.database.close()
        self.echo.terminate()

    async def sample(self, rounds: int) -> list[float]:
        """Latencies (ms) of ``rounds`` floor round trips."""
        payload, samples = b"x" * 400, []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(3):
                await self.client.request(self.subject, payload, timeout=5)
            await self.database.fetchval("SELECT count(*) FROM videos")
            samples.append((time.perf_counter() - started) * 1000)
        return samples


@dataclass
class Run:
    """The figures of one run: latencies (ms), throughput (questions/s), cache hits counted
    over every answer after the warm-up."""

    cache: bool
    floor_ms: list[float] = field(default_factory=list)
    tally_ms: list[float] = field(default_factory=list)
    rate: float = 0.0
    answers: int = 0
    hits: int = 0

    async def ask(self, asker: Asker, n: int) -> float:
        """Ask question ``n`` (cycling QUESTIONS); its round trip in ms."""
        asked = await asker.ask(QUESTIONS[n % len(QUESTIONS)])
        assert asked.answer.outcome == "answered", asked.answer
        self.answers += 1
        self.hits += asked.answer.cached
        return asked.elapsed_ms


async def tally_latency(run: Run, asker: Asker, rounds: int) -> list[float]:
    """Round-trip latencies (ms) of ``rounds`` sequential questions."""
    return [await run.ask(asker, n) for n in range(rounds)]


async def interleaved(run: Run, floor: Floor, asker: Asker) -> None:
    """Floor and Tally latencies measured in alternating slices of ``SLICE`` samples, so both
    see the same machine conditions; ``WARMUP`` of each first, discarded."""
    await floor.sample(WARMUP)
    await tally_latency(run, asker, WARMUP)
    run.answers = run.hits = 0
    for _ in range(SEQUENTIAL // SLICE):
        run.floor_ms += await floor.sample(SLICE)
        run.tally_ms += await tally_latency(run, asker, SLICE)


async def tally_throughput(run: Run, asker: Asker, total: int) -> None:
    """Questions answered per second with CONCURRENCY in flight."""
    queue = iter(range(total))

    async def worker() -> None:
        for n in queue:
            await run.ask(asker, n)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    run.rate = total / (time.perf_counter() - started)


def parser_latency(rounds: int = 20_000) -> list[float]:
    """Latencies (ms) of the built-in parser alone, in process, cycling QUESTIONS."""
    today = date(2025, 12, 1)
    samples = []
    for n in range(rounds):
        question = QUESTIONS[n % len(QUESTIONS)]
        language = detect_language(question)
        started = time.perf_counter()
        parse(question, language=language, today=today)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def measure(settings: CliSettings, console: Console, *, cache: bool) -> Run:
    """One run on freshly started services, with the answer cache on or off (the services
    read ANSWER_CACHE from the environment they inherit)."""
    os.environ["ANSWER_CACHE"] = "on" if cache else "off"
    run = Run(cache)
    stack = Stack(settings, console)
    try:
        common = stack.start_servers()
        await stack.prepare()
        await stack.start_services()
        report = await import_videos(SAMPLE, common)
        console.print(f"sample: {report.videos} videos, {report.snapshots} snapshots")
        async with Floor(common) as floor, Asker(common) as asker:
            await interleaved(run, floor, asker)
            await tally_throughput(run, asker, THROUGHPUT)
    finally:
        await stack.stop()
    return run


async def main() -> None:
    console = Console()
    home = Path(tempfile.mkdtemp(prefix="tally-bench-"))
    settings = CliSettings(tally_home=home, subject_prefix=f"bench{uuid4().hex[:8]}")
    if settings.database_url:
        url = make_url(settings.database_url).set(database=f"tally_bench_{uuid4().hex[:8]}")
        settings.database_url = url.render_as_string(hide_password=False)
    try:
        runs = [await measure(settings, console, cache=cache) for cache in (False, True)]
    finally:
        if settings.database_url:
            await drop_database(settings.database_url)
    for run in runs:
        print_report(console, run)
    parse_p50, parse_p99 = percentiles(parser_latency())
    console.print(f"built-in parser alone: p50 {parse_p50:.3f} ms, p99 {parse_p99:.3f} ms")


def print_report(console: Console, run: Run) -> None:
    floor_p50, floor_p99 = percentiles(run.floor_ms)
    p50, p99 = percentiles(run.tally_ms)
    cache = "ON" if run.cache else "OFF"
    table = Table(
        title=f"make bench, answer cache {cache} ({SEQUENTIAL} sequential questions, "
        f"{THROUGHPUT} at concurrency {CONCURRENCY})"
    )
    for column in ("measure", "p50 ms", "p99 ms", "questions/s"):
        table.add_column(column)
    table.add_row(
        "floor: 3 nats-py request/replies + 1 asyncpg query",
        f"{floor_p50:.2f}",
        f"{floor_p99:.2f}",
        "",
    )
    table.add_row(
        f"Tally (cache {cache}): gateway->nl2sql->executor->reply",
        f"{p50:.2f}",
        f"{p99:.2f}",
        f"{run.rate:.0f}",
    )
    table.add_row("Tally / floor at p50", f"{p50 / floor_p50:.2f}x", "", "")
    console.print(table)
    console.print(
        f"answer cache {cache}: {run.hits} of {run.answers} answers after the warm-up were "
        f"cache hits ({run.hits / run.answers:.1%})"
    )


if __name__ == "__main__":
    uvloop.run(main())  # the same loop as the services, for the floor and the client alike
