"""``make bench`` (fifth part): the gateway's CPU time per question, beside two floors.

The gateway runs as its own process (``python -m tally.gateway``, as ``tally up`` starts it)
on NATS_URL (an embedded NATS when unset), long-polling a simulated Bot API served by this
process (``tally.cli.bot_api``). No nl2sql or executor runs: this process plays them, with a
responder that subscribes to ``questions.asked`` and publishes a canned ``QuestionAnswered``
(a real plan, its SQL and a number, the way the executor answers) to the question's answer
subject, with the question's ``traceparent``, so the gateway does everything it does for a
real question and nothing else costs it CPU.

Users (USERS private chats, each its own user) ask the questions of ``tally loadtest`` in
turn at RATE per second (open model); every user asks once first, unmeasured (so the
first-contact ``UserSeen`` is out of the figure, as it is for a bot's regular users). A
phase is QUESTIONS questions; it ends when every one has its reply at the fake.

Measured per phase: the process's user + system CPU time from ``/proc/<pid>/stat`` between
the first question pushed and the last reply received, divided by the questions (ms). The
figure does not depend on how much of the machine other processes took.

Floors, in the same run, on the same fake and pace, each its own process (this script with
``--floor``):

- **aiogram floor**: a minimal aiogram 3 bot (Dispatcher polling, one message handler) that
  publishes ``{chat_id, text}`` with raw nats-py and sends each answer from a raw nats-py
  subscription with ``bot.send_message``: the libraries' cost of the same round trip with no
  Tally code, no telemetry and no metrics;
- **raw floor**: the same round trip with aiohttp and ``json`` alone (getUpdates, publish,
  subscribe, sendMessage): what Python, the event loop and the two protocols cost.

Phases alternate (gateway, aiogram floor, raw floor, again, ROUNDS times) so all three see
the same load from other tenants. Prints each phase and the medians per process, the commit
and the load average. With ``BENCH_BASELINE="<commit> ..."``, each commit's gateway is measured
in the same rounds too, beside this checkout's. The same work costs more CPU time while other
processes load the machine (shared caches, the hypervisor's other tenants): compare runs by
the gateway over the floors of its own rounds, not by milliseconds alone. Usage::

    uv run python scripts/bench_gateway.py [QUESTIONS] [RATE] [ROUNDS]
    BENCH_BASELINE="74b8e54 4c232f6" uv run python scripts/bench_gateway.py
"""

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import nats
import uvloop
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from rich.console import Console
from rich.table import Table

from tally.cli.bot_api import DEFAULT_TOKEN, BotApiSimulator
from tally.cli.config import CliSettings
from tally.cli.embedded import free_port
from tally.cli.load_measures import CLOCK_TICKS, Tracker
from tally.cli.loadtest import QUESTIONS as TEXTS
from tally.cli.up import Child, Stack, wait_ready
from tally.contracts.events import QuestionAnswered, QuestionAsked
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.infra.settings import DEFAULT_DATABASE_URL, CommonSettings
from tally.language import parse
from tally.semantic.compiler import compile_plan
from tally.semantic.plan import QueryPlan

QUESTIONS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--floor" else 500
RATE = float(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] != "--floor" else 50.0
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[1] != "--floor" else 4
USERS = 1000
USER_BASE = 7_000_000
INSTANCE = "bench"
FLOOR_QUESTIONS, FLOOR_ANSWERS = "floor.questions", "floor.answers"
"""Below the run's prefix: where the floors publish questions and get their answers."""
GATEWAY, AIOGRAM, RAW = "gateway", "aiogram floor", "raw floor"
BASELINES = os.environ.get("BENCH_BASELINE", "").split()
"""Commits whose gateways are measured too, in the same rounds (each its libs and services,
from ``git archive``, first on its PYTHONPATH): before and after changes on the same machine
load."""


@dataclass
class Phase:
    """One measured phase of one process."""

    process: str
    questions: int
    cpu_s: float
    system_s: float
    wall_s: float
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def cpu_ms_per_question(self) -> float:
        return self.cpu_s * 1000 / self.questions

    @property
    def system_share(self) -> float:
        """Of the CPU time, the share spent in the kernel (system time: sockets, wake-ups)."""
        return self.system_s / self.cpu_s if self.cpu_s else 0.0


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of ``pid`` from ``/proc/<pid>/stat`` (proc(5)); raises
    OSError when the process is gone."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def canned_answer() -> dict[str, Any]:
    """An executor's answer to "How many videos got more than 100,000 views?" (its real plan
    and SQL, a made-up number), as JSON-ready data; its ``question`` is replaced per question."""
    question = QuestionAsked(channel="telegram", chat_id=1, user_id=1, language="en", text="x")
    plan = parse(TEXTS[1], language="en", today=date(2025, 12, 1))
    assert isinstance(plan, QueryPlan)
    query = compile_plan(plan)
    answer = QuestionAnswered(
        question=question,
        outcome="answered",
        value=1234,
        interpretation=plan.interpretation,
        plan=plan,
        engine="builtin",
        sql=query.sql,
        params=query.params,
        row_count=1,
        elapsed_ms=1.5,
        total_ms=4.2,
    )
    return answer.model_dump(mode="json")


class Responder:
    """Plays nl2sql + executor for the gateway (canned QuestionAnswered on the question's
    answer subject) and for the floors (``{chat_id, text}`` on FLOOR_ANSWERS)."""

    def __init__(self, nc: NatsClient, subjects: Subjects) -> None:
        self.nc, self.subjects = nc, subjects
        self.template = canned_answer()
        self.floor_text = "1,234 videos got more than 100,000 views (all time)."

    async def start(self) -> None:
        await self.nc.subscribe(self.subjects.question_asked, cb=self.answer)
        await self.nc.subscribe(f"{self.subjects.prefix}.{FLOOR_QUESTIONS}", cb=self.floor)
        await self.nc.flush()

    async def answer(self, msg: Msg) -> None:
        question = json.loads(msg.data)
        subject = self.subjects.answer("telegram", question["question_id"], question["reply_to"])
        headers = Subjects.answer_headers(question["question_id"])
        if msg.headers and "traceparent" in msg.headers:
            headers["traceparent"] = msg.headers["traceparent"]
        body = json.dumps({**self.template, "question": question}).encode()
        await self.nc.publish(subject, body, headers=headers)

    async def floor(self, msg: Msg) -> None:
        chat_id = json.loads(msg.data)["chat_id"]
        body = json.dumps({"chat_id": chat_id, "text": self.floor_text}).encode()
        await self.nc.publish(f"{self.subjects.prefix}.{FLOOR_ANSWERS}", body)


class Users:
    """The simulated users of one process's fake Bot API; each phase's replies are matched
    to its questions per chat, in order (``tally.cli.load_measures.Tracker``)."""

    def __init__(self, telegram: BotApiSimulator) -> None:
        self.telegram = telegram

    async def ask(self, count: int, rate: float, first: int = 0) -> list[float]:
        """Push ``count`` questions at ``rate`` per second (users in turn, from question
        ``first``); return once each has a reply, with each reply's latency (ms) from the
        moment getUpdates handed its update out."""
        tracker = Tracker(handed_at=self.telegram.handed_at)
        self.telegram.on_sent = tracker.on_sent
        answered = []
        started = time.monotonic()
        for n in range(first, first + count):
            delay = started + (n - first) / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            chat_id = USER_BASE + n % USERS
            text = TEXTS[n % len(TEXTS)]
            russian = any("а" <= letter <= "я" for letter in text.lower())
            language = "ru" if russian else "en"
            update_id = self.telegram.push_message(chat_id, chat_id, text, language_code=language)
            answered.append(tracker.ask(chat_id, update_id, text, time.monotonic()))
        await asyncio.wait_for(asyncio.gather(*answered), 60)
        if tracker.unexpected:
            print(f"warning: {tracker.unexpected} replies to no question", file=sys.stderr)
        return tracker.latencies_ms


@dataclass
class Measured:
    """A process under measure: its fake Bot API's users and its pid."""

    name: str
    users: Users
    pid: int
    asked: int = 0

    async def warm_up(self) -> None:
        """Every user once (first contacts), unmeasured."""
        await self.users.ask(USERS, max(RATE, 200.0), first=0)
        self.asked = USERS

    async def phase(self) -> Phase:
        (user, system), started = cpu_times(self.pid), time.monotonic()
        latencies = await self.users.ask(QUESTIONS, RATE, first=self.asked)
        (user_after, system_after), wall = cpu_times(self.pid), time.monotonic() - started
        self.asked += QUESTIONS
        spent = user_after - user + system_after - system
        return Phase(self.name, QUESTIONS, spent, system_after - system, wall, latencies)


def _commit() -> str:
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
    )
    return described.stdout.strip() or "unknown"


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


async def _floor_process(kind: str, common: CommonSettings, base_url: str) -> Any:
    env = {
        **os.environ,
        "NATS_URL": common.nats_url,
        "SUBJECT_PREFIX": common.subject_prefix,
        "FLOOR_API": base_url,
        **({"NATS_USER": common.nats_user} if common.nats_user else {}),
        **({"NATS_PASSWORD": common.nats_password} if common.nats_password else {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--floor", kind, env=env, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if line.strip() != b"ready":
        raise RuntimeError(f"the {kind} floor did not start")
    return process


def _export(commit: str, home: Path) -> str:
    """A PYTHONPATH of the source trees (libs and services) of ``commit``, extracted under
    ``home``."""
    tree = home / f"at-{commit}"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", commit, "libs", "services"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    paths = [*sorted(tree.glob("libs/*/src")), *sorted(tree.glob("services/*/src"))]
    return os.pathsep.join(str(path) for path in paths)


async def _gateway(
    stack: Stack, api: BotApiSimulator, *, pythonpath: str = "", instance: int | None = None
) -> int:
    """Start a gateway polling ``api`` (its code first from ``pythonpath`` when given, see
    :func:`_export`; ``instance`` numbers a baseline's GATEWAY_INSTANCE); its pid once ready."""
    own = {"BOT_TOKEN": DEFAULT_TOKEN, "TELEGRAM_API_BASE": api.base_url}
    own["GATEWAY_INSTANCE"] = INSTANCE if instance is None else f"{INSTANCE}-{instance}"
    if pythonpath:
        own["PYTHONPATH"] = pythonpath
    saved = dict(os.environ)
    os.environ |= own
    try:
        gateway = Child("gateway", free_port())
        await stack.spawn(gateway)
    finally:
        os.environ.clear()
        os.environ |= saved
    stack.children.append(gateway)
    await wait_ready(gateway)
    assert gateway.process is not None
    return gateway.process.pid


async def run(console: Console) -> list[Phase]:
    home = Path(tempfile.mkdtemp(prefix="tally-bench-gateway-"))
    settings = CliSettings(tally_home=home, subject_prefix=f"benchg{uuid4().hex[:8]}")
    settings.database_url = settings.database_url or DEFAULT_DATABASE_URL  # the gateway uses none
    stack = Stack(settings, console)
    floors: list[Any] = []
    phases: list[Phase] = []
    try:
        common = stack.start_servers()
        subjects = Subjects(common.subject_prefix)
        nc = await nats.connect(common.nats_servers(), **common.nats_auth())
        await ensure_streams(nc.jetstream(), subjects, replicas=common.stream_replicas)
        await Responder(nc, subjects).start()
        async with (
            contextlib.AsyncExitStack() as apis,
            BotApiSimulator(keep_sent=False) as gateway_api,
            BotApiSimulator(keep_sent=False) as aiogram_api,
            BotApiSimulator(keep_sent=False) as raw_api,
        ):
            measured = [Measured(GATEWAY, Users(gateway_api), await _gateway(stack, gateway_api))]
            for number, commit in enumerate(BASELINES):
                baseline = await apis.enter_async_context(BotApiSimulator(keep_sent=False))
                path = _export(commit, home)
                pid = await _gateway(stack, baseline, pythonpath=path, instance=number)
                measured.append(Measured(f"gateway at {commit}", Users(baseline), pid))
            for kind, api in (("aiogram", aiogram_api), ("raw", raw_api)):
                floors.append(await _floor_process(kind, common, api.base_url))
            measured += [
                Measured(AIOGRAM, Users(aiogram_api), floors[0].pid),
                Measured(RAW, Users(raw_api), floors[1].pid),
            ]
            for process in measured:
                await process.warm_up()
            console.print(f"warmed up ({USERS} users once each); load average {_load()}")
            for _ in range(ROUNDS):
                for process in measured:
                    phases.append(await process.phase())
                    console.print(_line(phases[-1]))
            await _stop(floors)
        await delete_streams(nc.jetstream(), subjects)
        await nc.close()
    finally:
        await _stop(floors)
        await stack.stop()
    return phases


async def _stop(floors: list[Any]) -> None:
    for floor in floors:
        if floor.returncode is None:
            floor.terminate()
            await floor.wait()


def _line(phase: Phase) -> str:
    return (
        f"{phase.process}: {phase.questions} questions in {phase.wall_s:.1f} s, "
        f"{phase.cpu_ms_per_question:.2f} ms CPU per question ({phase.system_share:.0%} system)"
    )


def report(console: Console, phases: list[Phase]) -> None:
    """Per process: the median CPU ms per question over the rounds, each round's, the
    system share, the median latency; and the gateway over each floor, per round (the two
    share the round's machine), as the median of the rounds."""
    table = Table(title=f"CPU per question ({QUESTIONS} per phase at {RATE:g}/s, {ROUNDS} rounds)")
    columns = ("process", "CPU ms / question", "each round", "system", "latency p50 ms")
    for column in (*columns, "gateway / this (per round, median)"):
        table.add_column(column, justify="left" if column == "process" else "right")
    gateway = [phase.cpu_ms_per_question for phase in phases if phase.process == GATEWAY]
    for name in dict.fromkeys(phase.process for phase in phases):
        own = [phase for phase in phases if phase.process == name]
        each = [phase.cpu_ms_per_question for phase in own]
        system = sum(phase.system_s for phase in own) / sum(phase.cpu_s for phase in own)
        latency = statistics.median(sample for phase in own for sample in phase.latencies_ms)
        ratio = statistics.median(g / f for g, f in zip(gateway, each, strict=True))
        table.add_row(
            name,
            f"{statistics.median(each):.2f}",
            " ".join(f"{value:.2f}" for value in each),
            f"{system:.0%}",
            f"{latency:.1f}",
            f"{ratio:.2f}x",
        )
    console.print(table)
    console.print(f"commit {_commit()}; load average (1, 5, 15 min) at the end: {_load()}")


async def main() -> None:
    console = Console(width=150)
    console.print(f"commit {_commit()}; load average (1, 5, 15 min) at the start: {_load()}")
    report(console, await run(console))


# The floors: each runs in its own process, started by the bench with --floor KIND.


async def _serve_floor(
    kind: str,
    start: Callable[[NatsClient, str, str], Awaitable[Callable[[int, str], Awaitable[None]]]],
) -> None:
    common = CommonSettings()
    nc = await nats.connect(common.nats_servers(), **common.nats_auth())
    prefix = common.subject_prefix
    api = f"{os.environ['FLOOR_API']}/bot{DEFAULT_TOKEN}"
    send = await start(nc, prefix, api)
    pending: set[asyncio.Task[None]] = set()

    async def on_answer(msg: Msg) -> None:
        answer = json.loads(msg.data)
        task = asyncio.create_task(send(answer["chat_id"], answer["text"]))
        pending.add(task)
        task.add_done_callback(pending.discard)

    await nc.subscribe(f"{prefix}.{FLOOR_ANSWERS}", cb=on_answer)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def _aiogram_floor(
    nc: NatsClient, prefix: str, api: str
) -> Callable[[int, str], Awaitable[None]]:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    base = api.rsplit("/bot", 1)[0]
    bot = Bot(DEFAULT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def ask(message: Message) -> None:
        body = json.dumps({"chat_id": message.chat.id, "text": message.text})
        await nc.publish(f"{prefix}.{FLOOR_QUESTIONS}", body.encode())

    async def send(chat_id: int, text: str) -> None:
        await bot.send_message(chat_id, text)

    asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))  # noqa: RUF006
    return send


async def _raw_floor(
    nc: NatsClient, prefix: str, api: str
) -> Callable[[int, str], Awaitable[None]]:
    session = aiohttp.ClientSession()

    async def poll() -> None:
        offset = 0
        while True:
            params = {"offset": offset, "timeout": 10}
            try:
                async with session.post(f"{api}/getUpdates", json=params) as response:
                    updates = (await response.json())["result"]
            except aiohttp.ClientError:  # a kept-alive connection the fake closed: again
                continue
            for update in updates:
                offset = update["update_id"] + 1
                message = update["message"]
                body = json.dumps({"chat_id": message["chat"]["id"], "text": message["text"]})
                await nc.publish(f"{prefix}.{FLOOR_QUESTIONS}", body.encode())

    async def send(chat_id: int, text: str) -> None:
        params = {"chat_id": chat_id, "text": text}
        async with session.post(f"{api}/sendMessage", json=params) as response:
            await response.json()

    asyncio.create_task(poll())  # noqa: RUF006
    return send


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor"]:
        uvloop.run(
            _serve_floor(sys.argv[2], _aiogram_floor if sys.argv[2] == "aiogram" else _raw_floor)
        )
    else:
        uvloop.run(main())
