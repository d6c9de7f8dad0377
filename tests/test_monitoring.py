"""Debian's Prometheus, Alertmanager and postgres_exporter watching a running `tally up`, with
deploy/'s own configuration (targets rewritten to this machine's addresses, intervals to 1 s).

With traffic (questions from the CLI and Telegram, one through the fake LLM, a command, group
chat events, a video batch, dashboard pages, a message ingest cannot read): every scrape
target is up; every Grafana panel's query returns data from that Prometheus; and the dead
letter fires the shipped TallyDeadLetters rule, which Alertmanager sends through its
Telegram receiver (``api_url`` pointed at the fake Bot API).

The binaries come from `apt-get install prometheus prometheus-alertmanager
prometheus-postgres-exporter` (.ci/run installs them): missing, the test is skipped on a
developer's machine and fails in CI.
"""

import asyncio
import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import nats
import pytest
import yaml

from tally.contracts.events import VideoBatch, VideoRecord
from tally.contracts.subjects import Subjects
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.testing.llm import FakeLlm, Reply, sql_reply
from tally.testing.processes import stop_group
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram, SentMessage
from tests.deploy.alertmanager import render
from tests.deploy.dashboards import DASHBOARDS, load_dashboard, panel_queries
from tests.deploy.layout import DEPLOY
from tests.deploy.metrics import EXPORTER_METRICS, used_selectors
from tests.deploy.tools import tool

pytestmark = pytest.mark.timeout(600)  # six services, three servers, 2 s per rate window
TALLY = [sys.executable, "-m", "tally.cli.main"]
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
ALERT_CHAT = -1009000000001
GROUP = -1009000000002
ASKER = 9000003
EXEMPT_JOBS = {
    "nats": "prometheus-nats-exporter is neither a Debian package nor a wheel, so it does not "
    "run here; its panels (gnatsd_*, jetstream_*) are exempt",
}
"""deploy/'s scrape jobs with no target here, and why."""
EXEMPT_SERIES = frozenset(
    name for name, source in EXPORTER_METRICS.items() if "nats-exporter" in source
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return int(reply.status)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


async def _until(check: Callable[[], Awaitable[bool]], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.5)


@dataclass
class Stack:
    """A running `tally up` and the fakes it talks to."""

    services: dict[str, str]
    prefix: str
    environment: dict[str, str]
    telegram: FakeTelegram
    llm: FakeLlm


@dataclass
class Monitoring:
    """Prometheus's and Alertmanager's base URLs."""

    prometheus: str
    alertmanager: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar, as one sample) ``expr`` evaluates to now."""
        encoded = urllib.parse.urlencode({"query": expr})
        data = _get(f"{self.prometheus}/api/v1/query?{encoded}")["data"]
        result: list[dict[str, Any]] = data["result"]
        return [{"value": result}] if data["resultType"] == "scalar" else result


def _binary(name: str) -> str:
    return tool(
        name,
        "apt-get install prometheus prometheus-alertmanager "
        "prometheus-postgres-exporter; .ci/run does it",
    )


@pytest.fixture(scope="module")
def binaries() -> dict[str, str]:
    """Debian's binaries (skip or fail, see the module docstring)."""
    names = ("prometheus", "prometheus-alertmanager", "prometheus-postgres-exporter")
    return {name: _binary(name) for name in names}


async def _started(process: asyncio.subprocess.Process) -> None:
    assert process.stdout
    output = ""
    while "Ask" not in output:  # the summary's last row
        line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
        assert line, f"tally up exited early: {output}"
        output += line


def _answer(body: dict[str, Any]) -> Reply:
    return Reply.json(sql_reply("SELECT count(*) FROM videos", "all videos"))


@pytest.fixture(scope="module")
async def stack(
    binaries: dict[str, str], settings: CommonSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """`tally up --no-sample-data` on this run's NATS and database with a (fake) bot and a
    (fake) LLM, so all six services run and every engine answers."""
    home = tmp_path_factory.mktemp("home")
    prefix = f"m{uuid4().hex[:8]}"
    async with FakeTelegram() as telegram, FakeLlm(respond=_answer) as llm:
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
            "NATS_URL": settings.nats_url,
            "DATABASE_URL": settings.database_url,
            "SUBJECT_PREFIX": prefix,
            "TALLY_HOME": str(home),
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": telegram.base_url,
            "NL_ENGINE": "auto",
            "LLM_BASE_URL": llm.base_url,
            "LLM_API_KEY": llm.api_key,
            "LLM_MODEL": "fake-model",
            "COLUMNS": "200",
        }
        process = await asyncio.create_subprocess_exec(
            *TALLY,
            "up",
            "--no-sample-data",
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            await _started(process)
            services = json.loads((home / "stack.json").read_text())["services"]
            yield Stack(services, prefix, environment, telegram, llm)
        finally:
            code = await stop_group(process, timeout_s=60)
        assert code == 0


@contextlib.contextmanager
def _running(args: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """Run ``args`` (output to ``log``) until the block ends; then SIGTERM, SIGKILL after 10 s."""
    with log.open("wb") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT, env=env)
        try:
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ready(url: str, log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} not ready:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def _database_dsn(settings: CommonSettings) -> str:
    """postgres_exporter's DATA_SOURCE_NAME for this run's database."""
    dsn = asyncpg_dsn(settings.database_url)
    password = f":{urllib.parse.quote(dsn['password'])}" if dsn.get("password") else ""
    return (
        f"postgresql://{dsn['user']}{password}@{dsn.get('host', '127.0.0.1')}"
        f":{dsn.get('port', 5432)}/{dsn['database']}"
        "?sslmode=disable"
    )


def alertmanager_config(telegram: FakeTelegram) -> dict[str, Any]:
    """deploy/alertmanager's config as its container renders it (the fake bot's token, a
    test chat), sent to the fake Bot API, with the route's waits cut to a second."""
    config: dict[str, Any] = yaml.safe_load(
        render({"BOT_TOKEN": DEFAULT_TOKEN, "TELEGRAM_ALERT_CHAT_ID": str(ALERT_CHAT)})
    )
    (receiver,) = config["receivers"]
    (receiver["telegram_configs"][0])["api_url"] = telegram.base_url
    config["route"] |= {"group_wait": "1s", "group_interval": "1s"}
    return config


def prometheus_config(targets: dict[str, str], alertmanager: str) -> dict[str, Any]:
    """deploy/prometheus.yml with every job's targets replaced by ``targets[job]``
    (``host:port``; :data:`EXEMPT_JOBS` dropped), the rules read from deploy/, alerts sent to
    ``alertmanager`` and 1 s intervals. A job it does not know is an error."""
    config: dict[str, Any] = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    config["global"] |= {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(PROMETHEUS_CONFIG.parent / f) for f in config["rule_files"]]
    config["alerting"]["alertmanagers"] = [{"static_configs": [{"targets": [alertmanager]}]}]
    jobs = []
    for job in config["scrape_configs"]:
        name = job["job_name"]
        if name in EXEMPT_JOBS:
            continue
        assert name in targets, f"deploy's job {name} has no local target: run it or exempt it"
        job.pop("dns_sd_configs", None)
        job["static_configs"] = [{"targets": [targets[name]]}]
        jobs.append(job)
    config["scrape_configs"] = jobs
    return config


@pytest.fixture(scope="module")
def monitoring(
    binaries: dict[str, str],
    stack: Stack,
    settings: CommonSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Monitoring]:
    """postgres_exporter, Alertmanager and Prometheus on free ports, data in a temporary
    directory, watching ``stack``."""
    root = tmp_path_factory.mktemp("monitoring")
    ports = {name: _free_port() for name in ("prometheus", "alertmanager", "postgres")}
    address = {name: f"127.0.0.1:{port}" for name, port in ports.items()}
    targets = {
        **{name: urllib.parse.urlsplit(url).netloc for name, url in stack.services.items()},
        **address,
    }
    (root / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager_config(stack.telegram)))
    (root / "prometheus.yml").write_text(
        yaml.safe_dump(prometheus_config(targets, address["alertmanager"]))
    )
    exporter_env = {**os.environ, "DATA_SOURCE_NAME": _database_dsn(settings)}
    with contextlib.ExitStack() as running:
        running.enter_context(
            _running(
                [
                    binaries["prometheus-postgres-exporter"],
                    f"--web.listen-address={address['postgres']}",
                ],
                root / "postgres_exporter.log",
                exporter_env,
            )
        )
        running.enter_context(
            _running(
                [
                    binaries["prometheus-alertmanager"],
                    f"--config.file={root / 'alertmanager.yml'}",
                    f"--storage.path={root / 'alertmanager'}",
                    f"--web.listen-address={address['alertmanager']}",
                    "--cluster.listen-address=",
                ],
                root / "alertmanager.log",
            )
        )
        running.enter_context(
            _running(
                [
                    binaries["prometheus"],
                    f"--config.file={root / 'prometheus.yml'}",
                    f"--storage.tsdb.path={root / 'prometheus'}",
                    f"--web.listen-address={address['prometheus']}",
                ],
                root / "prometheus.log",
            )
        )
        monitoring = Monitoring(
            f"http://{address['prometheus']}", f"http://{address['alertmanager']}"
        )
        _ready(f"{monitoring.alertmanager}/-/ready", root / "alertmanager.log")
        _ready(f"{monitoring.prometheus}/-/ready", root / "prometheus.log")
        yield monitoring


async def _tally(stack: Stack, *arguments: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        *TALLY, *arguments, env=stack.environment, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output
    return dict(json.loads(output))


def _video() -> VideoRecord:
    stamp = datetime(2026, 1, 5, 12, tzinfo=UTC)
    return VideoRecord(
        id=uuid4(),
        creator_id=f"monitoring-{uuid4().hex[:8]}",
        video_created_at=stamp,
        views_count=5,
        likes_count=1,
        comments_count=0,
        reports_count=0,
        created_at=stamp,
        updated_at=stamp,
    )


@pytest.fixture(scope="module")
async def traffic(stack: Stack, monitoring: Monitoring, settings: CommonSettings) -> None:
    """What a day brings, in seconds: questions (CLI, Telegram, one only the LLM reads), a
    command, group chat events, a video batch and dashboard pages."""
    subjects = Subjects(stack.prefix)
    for question in ("How many videos are in the system?", "How many videos are in the system?"):
        assert (await _tally(stack, "ask", "--json", question))["trace_id"]
    llm = await _tally(
        stack, "ask", "--json", "Which of our videos would a data scientist call popular?"
    )
    assert stack.llm.requests, llm
    stack.telegram.push_message(chat_id=ASKER, user_id=ASKER, text="How many videos?")
    stack.telegram.push_message(chat_id=ASKER, user_id=ASKER, text="/help")
    await stack.telegram.wait_sent(count=2, chat_id=ASKER, timeout=30)
    for message_id in range(1, 4):
        stack.telegram.push_group_message(
            GROUP, ASKER, f"hello {message_id}", message_id=message_id
        )
    client = await nats.connect(settings.nats_url)
    try:
        batch = VideoBatch(import_id=uuid4().hex, batch_no=1, videos=(_video(),))
        await client.jetstream().publish(subjects.video_batch, batch.model_dump_json().encode())
    finally:
        await client.close()
    for path in ("/", "/health/ready"):
        assert await asyncio.to_thread(_status, stack.services["dashboard"] + path) < 300


@pytest.fixture(scope="module")
async def delivered(stack: Stack, monitoring: Monitoring, settings: CommonSettings) -> SentMessage:
    """A message ingest cannot read (not JSON) on the video batch subject: ingest
    dead-letters it, and Alertmanager's notification of TallyDeadLetters reaches the chat."""
    client = await nats.connect(settings.nats_url)
    try:
        await client.jetstream().publish(Subjects(stack.prefix).video_batch, b"not json")
    finally:
        await client.close()
    [sent] = await stack.telegram.wait_sent(count=1, chat_id=ALERT_CHAT, timeout=90)
    return sent


async def test_every_target_is_up(monitoring: Monitoring, stack: Stack) -> None:
    """Each of deploy/'s scrape jobs (but the exempt) has its target up: the six services,
    Prometheus, Alertmanager and postgres_exporter."""
    expected = {
        job["job_name"] for job in yaml.safe_load(PROMETHEUS_CONFIG.read_text())["scrape_configs"]
    } - set(EXEMPT_JOBS)

    async def all_up() -> bool:
        found = await asyncio.to_thread(monitoring.query, "up")
        jobs = {sample["metric"]["job"]: sample["value"][1] for sample in found}
        return set(jobs) == expected and set(jobs.values()) == {"1"}

    await _until(all_up, timeout_s=30, what="every target up")


async def test_a_dead_letter_reaches_telegram_through_alertmanager(
    delivered: SentMessage,
) -> None:
    """Prometheus's TallyDeadLetters fires on ingest's dead letter and Alertmanager sends it
    through its Telegram receiver, as the config's message template writes it."""
    assert "TallyDeadLetters" in delivered.text and "firing" in delivered.text
    assert "ingest dead-lettered" in delivered.text and "(decode)" in delivered.text


def _numbers(result: list[dict[str, Any]]) -> list[float]:
    """The values of an instant query's samples that are numbers (NaN, 0/0, is no data)."""
    values = (float(sample["value"][1]) for sample in result)
    return [value for value in values if not math.isnan(value)]


def _panels() -> list[tuple[str, str]]:
    """(dashboard/panel title, PromQL) of every panel target not on an exempt series."""
    found = []
    for path in DASHBOARDS:
        for title, expr in panel_queries(load_dashboard(path)):
            if not {s.name for s in used_selectors(expr)} & EXEMPT_SERIES:
                found.append((f"{path.stem}/{title}", expr))
    return found


async def test_every_panel_shows_data(
    monitoring: Monitoring, traffic: None, delivered: SentMessage
) -> None:
    """Every Grafana panel's query (Grafana's variables as tests/deploy replaces them)
    returns at least one number (not NaN) from this Prometheus, the labelled counters' zeros
    included;
    the NATS exporter's panels are exempt (see EXEMPT_JOBS)."""
    panels = _panels()
    assert len(panels) > 30, panels
    empty: list[str] = []

    async def all_have_data() -> bool:
        empty[:] = [
            title
            for title, expr in panels
            if not _numbers(await asyncio.to_thread(monitoring.query, expr))
        ]
        return not empty

    try:
        await _until(all_have_data, timeout_s=90, what="every panel to show data")
    except AssertionError:
        pytest.fail(f"panels with no data: {empty}")
