"""``tally loadtest``: many simulated Telegram users and group chats against the whole stack.

The stack (nl2sql, executor and ingest, each ``replicas`` times, and one gateway) runs as child
processes, as ``tally up`` runs them, on embedded servers when NATS_URL / DATABASE_URL are
unset, else on those with a fresh database and subject prefix; the sample videos are imported
through ingest. The gateway polls a simulated Bot API in this process (``tally.cli.bot_api``).
With ``gateways`` > 1 they run in webhook mode instead, and this process is also their load
balancer: it POSTs the updates to their webhooks in turn (round robin).

Users ask a fixed mix of answerable English and Russian questions and a few refusals, over and
over (so the answer cache, when on, is hit). Two load models:

- **open**: questions arrive at ``rate`` per second whatever the answers do, spread over the
  users in turn (each user asks every ``users / rate`` seconds);
- **closed**: each user asks, waits for the answer, thinks ``think_s``, asks again.

Every user asks at most once per gateway throttle interval (``THROTTLE_INTERVAL_S``, 0.5 s);
when the open model's pace would break that, the run lowers the throttle and says so.
Groups post plain messages (no replies expected: the bot is not addressed) at ``group_rate``
per second each; ingest stores them, and its consumer lag is sampled.
"""

import asyncio
import contextlib
import itertools
import json
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from uuid import uuid4

import aiohttp
import asyncpg
import nats
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError
from pydantic import BaseModel
from rich.console import Console
from sqlalchemy.engine import make_url

from tally.cli.bot_api import DEFAULT_TOKEN, BotApiSimulator, Json
from tally.cli.config import CliSettings, resolve
from tally.cli.load_measures import (
    CpuUse,
    Latency,
    LostQuestion,
    Tracker,
    binding,
    cpu_snapshot,
    cpu_use,
    latency,
)
from tally.cli.load_stack import LoadStack
from tally.contracts.streams import delete_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.db.session import asyncpg_dsn, drop_database
from tally.infra.settings import CommonSettings

Model = Literal["open", "closed"]
QUESTIONS = (
    "How many videos are in the system?",
    "How many videos got more than 100,000 views?",
    "How many total likes do all videos have?",
    "How many videos were published in November 2025?",
    "How many videos gained views on November 28, 2025?",
    "What was the total view growth on November 27, 2025?",
    "Top 5 videos by views",
    "Сколько всего видео есть в системе?",
    "Сколько видео набрало больше 100 000 просмотров за всё время?",
    "На сколько просмотров в сумме выросли все видео 28 ноября 2025?",
    "Сколько разных видео получали новые просмотры 27 ноября 2025?",
    "Сколько видео вышло в октябре 2025?",
    "What's the weather in Paris tomorrow?",
    "Расскажи анекдот про кота",
)
"""Answerable EN/RU questions from seed 000's families, then two refusals."""
GATEWAY_THROTTLE_S = 0.5
"""The gateway's default THROTTLE_INTERVAL_S."""
USER_BASE, GROUP_BASE, GROUP_MEMBERS = 5_000_000, -1_009_000_000_000, 40
"""Simulated users' ids start past USER_BASE; groups are GROUP_BASE - n, each with
GROUP_MEMBERS posters."""


@dataclass(frozen=True)
class LoadOptions:
    """One ``tally loadtest``: sizes, the load model, and how the stack is run."""

    users: int = 1000
    groups: int = 20
    duration_s: float = 30.0
    model: Model = "open"
    rate: float = 200.0
    think_s: float = 1.0
    group_rate: float = 2.0
    cache: bool = True
    replicas: int = 1
    compare_replicas: bool = False
    gateways: int = 1
    """Gateways: one polls the fake Bot API; more serve webhooks behind this process's
    round-robin balancer."""
    reask_after_s: float | None = None
    """The gateways' REASK_AFTER_S (None: theirs, 2 s): a low one has most questions asked
    again, and answered twice when the repeat reaches another executor replica."""
    start: bool = True
    bot_api_port: int = 0
    """With ``start`` off, the port the fake Bot API listens on (the running gateway's
    TELEGRAM_API_BASE must be http://127.0.0.1:<port>, its BOT_TOKEN the fake's)."""
    drain_s: float = 15.0
    sample: Path = Path("data/videos.json.gz")

    @property
    def throttle_s(self) -> float:
        """The throttle the run sets: the gateway's default unless the open model's pace per
        user is faster (then 0: every question handled)."""
        if self.model == "open" and self.users / self.rate < GATEWAY_THROTTLE_S:
            return 0.0
        return GATEWAY_THROTTLE_S


class PhaseReport(BaseModel):
    """The figures of one load phase (one replica count); ``webhook_errors`` counts updates
    a gateway's webhook did not take (HTTP status other than 200, or no answer)."""

    replicas: int
    gateways: int = 1
    webhook_errors: int = 0
    model: Model
    users: int
    groups: int
    duration_s: float
    throttle_s: float
    asked: int
    answered: int
    unanswered: int
    lost: list[LostQuestion] = []
    """The ``unanswered`` questions, with what the bus saw of their chats."""
    errors: int
    """``wrong_replies`` + ``stray_replies`` + ``duplicate_replies``."""
    wrong_replies: int = 0
    """Replies that differ from the usual reply to their question's text (a failure or a
    wrong answer; ``Tracker.inconsistent``)."""
    stray_replies: int = 0
    """Replies to a chat with no question open that repeat nothing it got."""
    duplicate_replies: int = 0
    """A usual reply the chat already got, sent again while no open question expects it: a
    question replied to twice."""
    crossed_replies: int = 0
    """Replies that reached their chat before the reply to an older question of it (not
    errors; counted as two wrong replies before replies were matched by their text)."""
    answers_per_s: float
    latency_ms: Latency
    stages_ms: dict[str, Latency]
    """The latency split: update handed out -> question on the bus ("gateway in") -> answer
    on the bus ("nl2sql + executor") -> sendMessage at the fake ("gateway out")."""
    group_messages: int
    group_messages_stored: int
    """Of ``group_messages``, the rows in ``messages`` once the phase drained (each message
    once: a row per chat and message id)."""
    ingest_lag_max: int
    ingest_lag_end: int
    cpu: list[CpuUse]
    binds: str


class LoadReport(BaseModel):
    """Every phase of a run; ``replica_ratio`` is answers/s with 2 replicas over 1."""

    phases: list[PhaseReport]
    replica_ratio: float | None = None


def _language(text: str) -> str:
    return "ru" if any("а" <= letter.lower() <= "я" for letter in text) else "en"


@dataclass
class Load:
    """The simulated users and groups of one phase, pushing updates into ``telegram``."""

    options: LoadOptions
    telegram: BotApiSimulator
    tracker: Tracker
    group_messages: int = 0

    def ask(self, user: int, n: int) -> asyncio.Future[float]:
        text = QUESTIONS[n % len(QUESTIONS)]
        chat_id = USER_BASE + user
        update_id = self.telegram.push_message(
            chat_id=chat_id, user_id=chat_id, text=text, language_code=_language(text)
        )
        return self.tracker.ask(chat_id, update_id, text, time.monotonic())

    async def warm_up(self) -> None:
        """Each question once from a user outside the measured ones, waiting for each answer
        (first compiles, prepared statements, connections); not counted, but its replies are
        the usual ones the measured replies are matched by (``Tracker.usual``)."""
        warm = Tracker(handed_at=self.tracker.handed_at)
        measured, self.tracker = self.tracker, warm
        self.telegram.on_sent = warm.on_sent
        try:
            for n in range(len(QUESTIONS)):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.ask(self.options.users, n), 30)
                await asyncio.sleep(max(self.options.throttle_s, 0.01))
        finally:
            self.tracker = measured
            self.telegram.on_sent = measured.on_sent
        measured.usual = warm.usual_replies()

    async def open_users(self, end: float) -> None:
        """Questions at ``rate`` per second, users in turn, until ``end`` (loop time)."""
        loop = asyncio.get_running_loop()
        started, sent = loop.time(), 0
        while (now := loop.time()) < end:
            due = int((now - started) * self.options.rate)
            for n in range(sent, due):
                self.ask(n % self.options.users, n)
            sent = max(sent, due)
            await asyncio.sleep(0.005)

    async def closed_user(self, user: int, end: float, deadline: float) -> None:
        """Ask, wait for the answer (until ``deadline``), think, again until ``end``."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(random.uniform(0, self.options.think_s))
        n = user
        while loop.time() < end:
            answered = self.ask(user, n)
            n += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(answered), deadline - loop.time())
            if not answered.done():
                return
            await asyncio.sleep(max(self.options.think_s, self.options.throttle_s))

    async def group(self, number: int, end: float) -> None:
        """Plain messages in group ``number`` at ``group_rate`` per second until ``end``."""
        loop = asyncio.get_running_loop()
        chat_id = GROUP_BASE - number
        while loop.time() < end:
            user = USER_BASE * 2 + number * GROUP_MEMBERS + random.randrange(GROUP_MEMBERS)
            words = random.randint(1, 12)
            self.telegram.push_group_message(chat_id, user, " ".join(["hello"] * words))
            self.group_messages += 1
            await asyncio.sleep(1 / self.options.group_rate)

    async def run(self) -> None:
        """Run the users and groups for ``duration_s`` (the closed model's users then wait
        for their last answers, up to ``drain_s``)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + self.options.duration_s
        tasks = [self.group(number, end) for number in range(self.options.groups)]
        if self.options.model == "open":
            tasks.append(self.open_users(end))
        else:
            deadline = end + self.options.drain_s
            tasks += [self.closed_user(u, end, deadline) for u in range(self.options.users)]
        await asyncio.gather(*tasks)


async def _consumer_lag(js: JetStreamContext, subjects: Subjects) -> int:
    """Chat events ingest's durable has not acknowledged yet (pending + ack pending)."""
    try:
        info = await js.consumer_info(subjects.chat_events_stream, CHATS_DURABLE)
    except NotFoundError:
        return 0
    return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


@dataclass
class LagSampler:
    """Samples ingest's chat-events consumer lag every 0.25 s while running."""

    js: JetStreamContext
    subjects: Subjects
    samples: list[int] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a slow info call skips one sample
                self.samples.append(await _consumer_lag(self.js, self.subjects))
            await asyncio.sleep(0.25)


async def _watch_bus(connection: NatsClient, subjects: Subjects, tracker: Tracker) -> None:
    """Report each Telegram question and answer crossing the bus to ``tracker.on_bus``."""

    async def asked(message: Msg) -> None:
        question = json.loads(message.data)
        if question.get("channel") == "telegram":
            tracker.on_bus("asked", int(question["chat_id"]), time.monotonic())

    async def answered(message: Msg) -> None:
        question = json.loads(message.data)["question"]
        tracker.on_bus("answered", int(question["chat_id"]), time.monotonic())

    await connection.subscribe(subjects.question_asked, cb=asked)
    await connection.subscribe(subjects.answers_for("telegram"), cb=answered)
    await connection.subscribe(subjects.answers_routed("telegram"), cb=answered)


@dataclass
class Balancer:
    """The load balancer in front of several webhook gateways: each update the fake Bot API
    queues is POSTed (with the secret token header) to the next of ``webhooks`` in turn."""

    telegram: BotApiSimulator
    webhooks: list[str]
    secret: str
    errors: int = 0

    async def run(self) -> None:
        """Forward updates until the fake Bot API closes (or the task is cancelled)."""
        turn = itertools.cycle(self.webhooks)
        posts: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession() as session:
            while updates := await self.telegram.take_updates():
                for update in updates:
                    post = asyncio.create_task(self._post(session, next(turn), update))
                    posts.add(post)
                    post.add_done_callback(posts.discard)

    async def _post(self, session: aiohttp.ClientSession, url: str, update: Json) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        try:
            async with session.post(url, json=update, headers=headers) as response:
                self.errors += response.status != 200
        except aiohttp.ClientError:
            self.errors += 1


async def _group_messages_stored(database_url: str, since: datetime) -> int:
    """Rows in ``messages`` of the simulated groups (chat ids at or below GROUP_BASE) sent
    at or after ``since`` (UTC; a run on a running stack may find earlier runs' rows)."""
    connection = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        stored = await connection.fetchval(
            "SELECT count(*) FROM messages WHERE chat_id <= $1 AND sent_at >= $2",
            GROUP_BASE,
            since,
        )
    finally:
        await connection.close()
    return int(stored or 0)


async def _drain(tracker: Tracker, lag: LagSampler, seconds: float) -> None:
    """Wait until every question is answered and ingest caught up, at most ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if tracker.outstanding == 0 and (not lag.samples or lag.samples[-1] == 0):
            return
        await asyncio.sleep(0.1)


async def run_phase(
    options: LoadOptions,
    common: CommonSettings,
    replicas: int,
    stack: LoadStack | None,
) -> PhaseReport:
    """One phase: (re)start the services when ``stack`` is given, load, drain, measure."""
    tracker = Tracker(handed_at={})
    port = 0 if stack is not None else options.bot_api_port
    telegram = BotApiSimulator(on_sent=tracker.on_sent, keep_sent=False, port=port)
    tracker.handed_at = telegram.handed_at
    connection = await nats.connect(common.nats_servers(), **common.nats_auth())
    async with telegram:
        balancer: Balancer | None = None
        if stack is not None:
            stack.extra_env["TELEGRAM_API_BASE"] = telegram.base_url
            webhook = options.gateways > 1
            await stack.start_replicas(replicas, gateways=options.gateways, webhook=webhook)
            if webhook:
                balancer = Balancer(telegram, list(stack.webhooks.values()), stack.webhook_secret)
        balancing = asyncio.create_task(balancer.run()) if balancer else None
        pids = (stack.pids() if stack else {}) | {"loadtest (users + fake Bot API)": os.getpid()}
        subjects = Subjects(common.subject_prefix)
        await _watch_bus(connection, subjects, tracker)
        lag = LagSampler(connection.jetstream(), subjects)
        sampling = asyncio.create_task(lag.run())
        load = Load(options, telegram, tracker)
        await load.warm_up()
        before, start = cpu_snapshot(pids), time.monotonic()
        # Telegram dates are whole seconds: the phase's first message may carry the second before
        started_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
        await load.run()
        end = start + options.duration_s
        await _drain(tracker, lag, options.drain_s)
        stored = await _group_messages_stored(common.database_url, started_at)
        wall = time.monotonic() - start
        cpu = cpu_use(before, cpu_snapshot(pids), wall, tracker.asked)
        sampling.cancel()
        if balancing is not None:
            balancing.cancel()
        if stack is not None:
            await stack.stop_services()
    await connection.close()
    in_window = sum(1 for at in tracker.answered_at if start <= at <= end)
    return PhaseReport(
        replicas=replicas,
        gateways=options.gateways,
        webhook_errors=balancer.errors if balancer else 0,
        model=options.model,
        users=options.users,
        groups=options.groups,
        duration_s=options.duration_s,
        throttle_s=options.throttle_s,
        asked=tracker.asked,
        answered=len(tracker.latencies_ms),
        unanswered=tracker.outstanding,
        lost=tracker.lost(start),
        errors=tracker.inconsistent + tracker.unexpected + tracker.duplicates,
        wrong_replies=tracker.inconsistent,
        stray_replies=tracker.unexpected,
        duplicate_replies=tracker.duplicates,
        crossed_replies=tracker.crossed,
        answers_per_s=in_window / options.duration_s,
        latency_ms=latency(tracker.latencies_ms),
        stages_ms={stage: latency(ms) for stage, ms in tracker.stages_ms.items()},
        group_messages=load.group_messages,
        group_messages_stored=stored,
        ingest_lag_max=max(lag.samples, default=0),
        ingest_lag_end=lag.samples[-1] if lag.samples else 0,
        cpu=cpu,
        binds=binding(cpu, os.cpu_count() or 1),
    )


def _settings() -> CliSettings:
    """A fresh home, subject prefix and (on a configured server) database for this run."""
    home = Path(tempfile.mkdtemp(prefix="tally-load-"))
    settings = CliSettings(tally_home=home, subject_prefix=f"load{uuid4().hex[:8]}")
    if settings.database_url:
        url = make_url(settings.database_url).set(database=f"tally_load_{uuid4().hex[:8]}")
        settings.database_url = url.render_as_string(hide_password=False)
    return settings


async def run_loadtest(options: LoadOptions, console: Console) -> LoadReport:
    """Start the stack (unless ``start`` is off), run each phase, stop everything.

    With ``compare_replicas`` the phases are 1 and 2 replicas, else ``replicas``. Without
    ``start``, one phase runs on an already running stack (see ``run_on_running``).
    """
    from tally.cli.importer import import_videos

    if not options.start:
        return await run_on_running(options, console)
    settings = _settings()
    stack = LoadStack(settings, console)
    stack.extra_env |= {
        "BOT_TOKEN": DEFAULT_TOKEN,
        "ANSWER_CACHE": "on" if options.cache else "off",
        "THROTTLE_INTERVAL_S": str(options.throttle_s),
        "LOG_LEVEL": "WARNING",
    }
    if options.reask_after_s is not None:
        stack.extra_env["REASK_AFTER_S"] = str(options.reask_after_s)
    phases = [1, 2] if options.compare_replicas else [options.replicas]
    reports = []
    try:
        common = await asyncio.to_thread(stack.start_servers)
        await stack.prepare()
        await stack.start_replicas(1, gateways=0)
        imported = await import_videos(options.sample, common)
        console.print(f"Imported {imported.videos:,} videos, {imported.snapshots:,} snapshots.")
        await stack.stop_services()
        for replicas in phases:
            console.print(f"Load with {replicas} replica(s) of nl2sql, executor and ingest…")
            reports.append(await run_phase(options, common, replicas, stack))
    finally:
        await stack.stop()
        if settings.nats_url and settings.database_url:
            try:
                await _clean_up(
                    CommonSettings(
                        nats_url=settings.nats_url,
                        nats_user=settings.nats_user,
                        nats_password=settings.nats_password,
                        database_url=settings.database_url,
                        subject_prefix=settings.subject_prefix,
                    )
                )
            except (nats.errors.Error, APIError, OSError) as error:
                # e.g. a stream whose only server is gone: the report still counts
                console.print(
                    f"Could not delete this run's streams (prefix {settings.subject_prefix}):"
                    f" {error!r}. Delete them by hand (`nats stream rm`)."
                )
    ratio = reports[1].answers_per_s / reports[0].answers_per_s if len(reports) == 2 else None
    return LoadReport(phases=reports, replica_ratio=ratio if reports[0].answers_per_s else None)


async def _clean_up(common: CommonSettings) -> None:
    """Drop the run's database and delete its streams and buckets (configured servers only;
    embedded ones go with their temporary home)."""
    await drop_database(common.database_url)
    connection = await nats.connect(common.nats_servers(), **common.nats_auth())
    try:
        await delete_streams(connection.jetstream(), Subjects(common.subject_prefix))
    finally:
        await connection.close()


async def run_on_running(options: LoadOptions, console: Console) -> LoadReport:
    """``--no-start``: one phase on the stack ``tally ask`` would use (NATS_URL, or
    ``tally up``'s state), with the sample data already imported. Its gateway must poll
    ``http://127.0.0.1:<bot_api_port>`` with the fake's token (``DEFAULT_TOKEN``); CPU is
    measured for this process and the servers only (the services' pids are not known)."""
    common = resolve(CliSettings())
    console.print(f"Using the running stack; serving the fake Bot API on {options.bot_api_port}.")
    return LoadReport(phases=[await run_phase(options, common, options.replicas, None)])
