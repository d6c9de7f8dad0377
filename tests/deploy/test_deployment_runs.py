"""The deployments, run without Docker: every Tally process of docker-compose.yml, then of the
rendered Kubernetes base, started with exactly the command and environment the deployment
would give it (tests/deploy/stack.py), host names mapped to a NATS server of its own
(deploy/nats/nats.conf and auth.conf, the passwords from the ``.env`` or the Secret) and the
test PostgreSQL server (a scratch database; the deployment's owner login is the server's
user). In the deployment's order: the PostgreSQL init script (compose), the migrate and
streams one-offs, the services, the sample data (compose's ``sample-data``; on Kubernetes
``tally import-videos`` with the streams Job's environment). Kubernetes overlay values are
only set for keys the base's ConfigMap has (the admins, the fake Bot API).

The stack must then do its job: every /health/ready answers 204, a question gets the answer
the database holds, a chat message is stored, a /watch is backtested as ``tally_reader`` and
(compose only: the same code, and it takes a minute) fires, its notice reaching the admins'
chat, and resolves; /analytics counts the question. Separately, every variable a service
reads without a safe default must be set by compose and by the Kubernetes base, each database
login with its password.
"""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import yaml
from sqlalchemy.engine import make_url

from tally.cli.embedded import free_port
from tally.infra.db.session import asyncpg_dsn, scratch_database
from tally.testing.otlp import FakeCollector
from tally.testing.processes import stop_group
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.deploy.layout import DEPLOY, ROOT
from tests.deploy.stack import (
    Local,
    Process,
    compose_processes,
    env_file,
    interpolate,
    kubernetes_processes,
    localize,
    logins_without_password,
    secret_values,
    unset_without_default,
)

pytestmark = pytest.mark.timeout(300)

ADMIN = 4242
ADMIN_CHAT = -1_000_000_424_243
GROUP = -1_000_000_424_242
NATS_SERVER = Path(sys.executable).parent / "nats-server"
PROFILES = {"telegram", "sample-data"}
ONE_OFFS = ("migrate", "streams")


def _compose_variables(telegram_api: str) -> dict[str, str]:
    return env_file(
        DEPLOY / ".env.example",
        {
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": telegram_api,
            "ADMIN_USER_IDS": str(ADMIN),
            "ADMIN_CHAT_IDS": str(ADMIN_CHAT),
        },
    )


@pytest.mark.parametrize("deployment", ["compose", "kubernetes"])
def test_every_setting_without_a_safe_default_is_set(deployment: str) -> None:
    """Each process gets the bus, its database logins (each with a password) and what else it
    cannot start well without; the failure names the variables."""
    if deployment == "compose":
        processes = compose_processes(_compose_variables("http://fake"), PROFILES)
    else:
        processes = kubernetes_processes(lambda key: secrets.token_urlsafe(24))
    unset = {p.name: unset_without_default(p) for p in processes}
    assert {name: names for name, names in unset.items() if names} == {}
    no_password = {p.name: logins_without_password(p) for p in processes}
    assert {name: names for name, names in no_password.items() if names} == {}


@dataclass
class Stack:
    """The running deployment: its processes (localized), the fake Bot API and the database."""

    name: str
    processes: dict[str, Process]
    sample_data: Process
    telegram: FakeTelegram
    database_url: str
    workdir: Path


def _nats_config(directory: Path, port: int, monitor: int) -> Path:
    """deploy/nats/nats.conf and auth.conf, listening on ``port`` (monitoring on
    ``monitor``), storing under ``directory``."""
    config = (DEPLOY / "nats" / "nats.conf").read_text()
    config = config.replace("port: 4222", f"port: {port}\nhost: 127.0.0.1")
    config = config.replace("http_port: 8222", f"http_port: {monitor}")
    config = config.replace("/data", str(directory / "data"))
    (directory / "auth.conf").write_text((DEPLOY / "nats" / "auth.conf").read_text())
    (directory / "nats.conf").write_text(config)
    return directory / "nats.conf"


def _start_nats(
    directory: Path, port: int, monitor: int, environment: dict[str, str]
) -> "subprocess.Popen[bytes]":
    """nats-server with the deployment's configuration and the nats service's environment."""
    config = _nats_config(directory, port, monitor)
    with (directory / "log").open("wb") as log:
        return subprocess.Popen(
            [str(NATS_SERVER), "-c", str(config)],
            env={"PATH": os.environ.get("PATH", ""), **environment},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@asynccontextmanager
async def _started(process: Process, workdir: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    log = (workdir / f"{process.name}.log").open("wb")
    child = await asyncio.create_subprocess_exec(
        *process.command,
        env=process.environment,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield child
    finally:
        await stop_group(child, timeout_s=20, signum=signal.SIGTERM)
        log.close()


def _tail(workdir: Path, name: str) -> str:
    return (workdir / f"{name}.log").read_text(errors="replace")[-3000:]


async def _run_once(process: Process, workdir: Path) -> None:
    async with _started(process, workdir) as child:
        code = await asyncio.wait_for(child.wait(), 120)
    assert code == 0, f"{process.name} exited with {code}:\n{_tail(workdir, process.name)}"


def _status(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


async def _wait_ready(process: Process, child: asyncio.subprocess.Process, workdir: Path) -> None:
    assert process.health_port is not None
    for _ in range(600):  # 120 s: two cores, six services importing at once
        if await asyncio.to_thread(_status, process.health_port) == 204:
            return
        if child.returncode is not None:
            break
        await asyncio.sleep(0.2)
    pytest.fail(
        f"{process.name} is not ready (exit {child.returncode}):\n{_tail(workdir, process.name)}"
    )


def _init_roles(postgres: Process, local: Local, server_url: str) -> None:
    """deploy/postgres/initdb as the image's entrypoint runs it: ``sh`` with the postgres
    service's environment, psql reaching the server."""
    dsn = asyncpg_dsn(server_url)
    environment = {
        **postgres.environment,
        "PATH": os.environ.get("PATH", ""),
        "PGHOST": str(dsn.get("host") or "127.0.0.1"),
        "PGPORT": str(dsn.get("port") or 5432),
        "POSTGRES_USER": local.server.username or "postgres",
        "POSTGRES_DB": local.database,
    }
    for script in sorted((DEPLOY / "postgres" / "initdb").glob("*.sh")):
        done = subprocess.run(
            ["sh", str(script)], env=environment, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr


@dataclass
class Deployment:
    """One deployment read for a run: its Tally processes (not yet localized), the names of
    its one-offs in order, the import of the sample data, the NATS server's environment, the
    PostgreSQL service's (None: the roles are created by hand, as docs/deploy.md says) and its
    host names."""

    processes: list[Process]
    one_offs: tuple[str, ...]
    sample_data: Process
    nats_environment: dict[str, str]
    postgres: Process | None
    owner: str
    nats_host: str
    database_host: str
    collector_host: str


def _compose(telegram_api: str) -> Deployment:
    variables = _compose_variables(telegram_api)
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = interpolate(document["services"], variables)
    processes = compose_processes(variables, PROFILES)
    postgres = {k: str(v) for k, v in services["postgres"]["environment"].items()}
    return Deployment(
        processes=[p for p in processes if p.name != "sample-data"],
        one_offs=("migrate", "streams"),
        sample_data=next(p for p in processes if p.name == "sample-data"),
        nats_environment={k: str(v) for k, v in services["nats"]["environment"].items()},
        postgres=Process("postgres", "postgres", [], postgres, None),
        owner=postgres["POSTGRES_USER"],
        nats_host="nats",
        database_host="postgres",
        collector_host="jaeger",
    )


def _kubernetes(telegram_api: str) -> Deployment:
    filled: dict[str, str] = {"BOT_TOKEN": DEFAULT_TOKEN}

    def fill(key: str) -> str:
        return filled.setdefault(key, "t" + secrets.token_urlsafe(24))

    config = {
        "TELEGRAM_API_BASE": telegram_api,
        "ADMIN_USER_IDS": str(ADMIN),
        "ADMIN_CHAT_IDS": str(ADMIN_CHAT),
    }
    processes = kubernetes_processes(fill, config)
    secret = secret_values(fill)
    streams = next(p for p in processes if p.name == "tally-streams")
    # docs/deploy.md: the operator imports data as `admin`, as the streams Job runs.
    sample_data = replace(
        streams,
        name="sample-data",
        command=["tally", "import-videos", "/app/data/videos.json.gz"],
    )
    nats = {k: v for k, v in secret.items() if k.startswith("NATS_PASSWORD_")}
    owner = make_url(secret["DATABASE_URL"])
    config_map = yaml.safe_load((DEPLOY / "k8s" / "base" / "configmap.yaml").read_text())
    return Deployment(
        processes=processes,
        one_offs=("tally-migrate", "tally-streams"),
        sample_data=sample_data,
        nats_environment=nats,
        postgres=None,
        owner=str(owner.username),
        nats_host=str(urlsplit(config_map["data"]["NATS_URL"]).hostname),
        database_host=str(owner.host),
        collector_host=str(urlsplit(config_map["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"]).hostname),
    )


READ = {"compose": _compose, "kubernetes": _kubernetes}


@pytest.fixture(params=sorted(READ))
async def stack(
    request: pytest.FixtureRequest, server_database_url: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    """The deployment ``request.param`` running: the NATS server, the init script, the
    one-offs in order, then every service ready."""
    async with AsyncExitStack() as exit_stack:
        telegram = await exit_stack.enter_async_context(FakeTelegram())
        collector = await exit_stack.enter_async_context(FakeCollector())
        deployment = READ[request.param](telegram.base_url)
        database_url = await exit_stack.enter_async_context(
            scratch_database(server_database_url, "tally_deploy", migrated=False)
        )
        nats_port, monitor = free_port(), free_port()
        nats_dir = tmp_path / "nats"
        nats_dir.mkdir()
        workdir = tmp_path / "app"
        workdir.mkdir()
        (workdir / "data").symlink_to(ROOT / "data")
        local = Local(
            hosts={
                deployment.nats_host: f"127.0.0.1:{nats_port}",
                deployment.collector_host: collector.endpoint.split("://", 1)[1].rstrip("/"),
            },
            database_host=deployment.database_host,
            server=make_url(server_database_url),
            database=str(make_url(database_url).database),
            owner=deployment.owner,
            workdir=workdir,
        )
        nats = await asyncio.to_thread(
            _start_nats, nats_dir, nats_port, monitor, deployment.nats_environment
        )
        exit_stack.callback(nats.wait, 10)
        exit_stack.callback(nats.terminate)
        if deployment.postgres is not None:
            await asyncio.to_thread(_init_roles, deployment.postgres, local, server_database_url)
        processes = {p.name: localize(p, local, free_port) for p in deployment.processes}
        for name in deployment.one_offs:
            await _run_once(processes[name], workdir)
        running = [
            (p, await exit_stack.enter_async_context(_started(p, workdir)))
            for p in processes.values()
            if p.health_port is not None
        ]
        for process, child in running:
            await _wait_ready(process, child, workdir)
        sample_data = localize(deployment.sample_data, local, free_port)
        yield Stack(request.param, processes, sample_data, telegram, database_url, workdir)


async def _fetch(database_url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def _until(
    database_url: str, query: str, *args: object, timeout_s: float
) -> list[asyncpg.Record]:
    for _ in range(int(timeout_s * 2)):
        if rows := await _fetch(database_url, query, *args):
            return rows
        await asyncio.sleep(0.5)
    pytest.fail(f"nothing from {query!r} within {timeout_s} s")


async def _reply(stack: Stack, chat_id: int, text: str) -> str:
    if chat_id > 0:
        stack.telegram.push_message(chat_id, ADMIN, text)
    else:
        stack.telegram.push_group_message(chat_id, ADMIN, text)
    [sent] = await stack.telegram.wait_sent(chat_id=chat_id, timeout=30)
    return sent.text


async def test_the_deployment_runs_and_answers(stack: Stack) -> None:
    """Ready, answering from imported data, storing chat messages, firing and resolving a
    data alert, reporting to admins: each part as the deployment wires it."""
    await _run_once(stack.sample_data, stack.workdir)
    [count] = await _fetch(stack.database_url, "SELECT count(*) AS n FROM videos")
    assert count["n"] > 0
    answer = await _reply(stack, ADMIN, "How many videos are there?")
    assert f"{count['n']:,}" in answer or str(count["n"]) in answer, answer

    watch = await _reply(stack, GROUP, "/watch messages in this chat exceed 2 per minute")
    assert "is on" in watch, watch
    for n in range(3):
        stack.telegram.push_group_message(GROUP, ADMIN + n + 1, f"hello {n}")
    await _until(
        stack.database_url,
        "SELECT 1 FROM messages WHERE chat_id = $1 AND user_id = $2",
        GROUP,
        ADMIN + 3,
        timeout_s=30,
    )
    if stack.name == "compose":  # the same alerts code: once is enough (a minute and more)
        history = "SELECT alertname FROM alert_history WHERE event = $1"
        [fired] = await _until(stack.database_url, history, "fired", timeout_s=45)
        [notice] = await stack.telegram.wait_sent(chat_id=ADMIN_CHAT, timeout=60)
        assert "FIRING" in notice.text and fired["alertname"] in notice.text, notice.text
        await _until(stack.database_url, history, "resolved", timeout_s=100)

    [asked] = await _fetch(stack.database_url, "SELECT count(*) AS n FROM questions")
    analytics = await _reply(stack, ADMIN, "/analytics")
    assert asked["n"] >= 1 and f"Questions: {asked['n']}" in analytics, analytics
