"""``tally up``: everything in one command, embedded servers included when none are configured.

Order: NATS and PostgreSQL (embedded under ``TALLY_HOME`` when NATS_URL / DATABASE_URL are
unset) -> database and migrations -> JetStream streams -> one child process per service (the
dashboard on DASHBOARD_PORT, or a free port when that one is taken) ->
the sample data when the database is empty -> wait for Ctrl-C -> stop everything.
A service that exits is restarted (after 1 s, at most 5 times in a row).

An embedded NATS requires a user: each service process gets its own (NATS_USER and
NATS_PASSWORD in its environment), with the permissions of :mod:`tally.contracts.access`; the
logins and the server's configuration are under ``TALLY_HOME/nats/auth`` (:mod:`tally.cli.bus`).
A configured NATS_URL is used as it is, with NATS_USER / NATS_PASSWORD for every process when
they are set.

The gateway and the dashboard share ``DASHBOARD_LINK_SECRET`` (the signed links of
``/dashboard``): when it is not set, a random one is made for this run and given to both, with
``DASHBOARD_PUBLIC_URL`` (when not set) the dashboard's local address, so links work out of
the box.
"""

import asyncio
import os
import secrets
import signal
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import nats
from rich.console import Console
from rich.table import Table

from tally.cli.bus import BusUsers
from tally.cli.config import CliSettings, StackState
from tally.cli.embedded import EmbeddedNats, EmbeddedPostgres, free_port, port_taken
from tally.contracts.streams import ensure_streams
from tally.contracts.subjects import Subjects
from tally.infra.db.session import asyncpg_dsn, ensure_database, migrate, wait_for_database
from tally.infra.errors import UserFacingError
from tally.infra.settings import CommonSettings, redact

SERVICES = ("ingest", "nl2sql", "executor", "alerts", "dashboard", "gateway")
PORT_VARIABLES = {"dashboard": "DASHBOARD_PORT"}
"""Services whose HTTP port (with /health) is not METRICS_PORT."""
LINK_SERVICES = frozenset({"gateway", "dashboard"})
"""Services that share DASHBOARD_LINK_SECRET (the gateway signs links, the dashboard checks)."""
MAX_RESTARTS = 5


@dataclass
class Child:
    """One service process and its metrics port."""

    name: str
    port: int
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0


@dataclass
class Stack:
    """The servers and service processes of one ``tally up``."""

    settings: CliSettings
    console: Console
    embedded: list[EmbeddedNats | EmbeddedPostgres] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    common: CommonSettings | None = None
    users: BusUsers | None = None
    link_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    """DASHBOARD_LINK_SECRET for the gateway and the dashboard when the environment has none."""
    stop_timeout_s: float = 15
    """How long a service may take to exit after SIGTERM before it is killed (seconds)."""

    def start_servers(self) -> CommonSettings:
        """Use the configured servers or start embedded ones; return the operator's settings
        (the ``admin`` user of an embedded NATS)."""
        nats_url, database_url = self.settings.nats_url, self.settings.database_url
        user, password = self.settings.nats_user, self.settings.nats_password
        if nats_url is None:
            nats_url = self._start_nats()
            assert self.users
            admin = self.users.logins["admin"]
            user, password = admin.user, admin.password
        if database_url is None:
            postgres = EmbeddedPostgres(self.settings.tally_home.resolve() / "postgres")
            database_url = postgres.start()
            self.embedded.append(postgres)
        self.common = CommonSettings(
            nats_url=nats_url,
            nats_user=user,
            nats_password=password,
            database_url=database_url,
            subject_prefix=self.settings.subject_prefix,
        )
        return self.common

    def _start_nats(self) -> str:
        """An embedded nats-server requiring the users of fresh logins; its URL."""
        server = EmbeddedNats(self.settings.tally_home / "nats")
        self.users = BusUsers.generate(server.data_dir / "auth")
        config = self.users.write(
            Subjects(self.settings.subject_prefix),
            port=server.port,
            store_dir=server.data_dir.resolve(),
            log_file=server.log_file.resolve(),
        )
        url = server.start(config=config)
        self.embedded.append(server)
        return url

    async def prepare(self) -> None:
        """Database created and migrated, streams declared."""
        assert self.common
        await ensure_database(self.common.database_url)
        await wait_for_database(self.common.database_url)
        await asyncio.to_thread(migrate, self.common.database_url)
        client = await nats.connect(self.common.nats_servers(), **self.common.nats_auth())
        await ensure_streams(
            client.jetstream(),
            Subjects(self.common.subject_prefix),
            replicas=self.common.stream_replicas,
        )
        await client.close()

    def environment(self, child: Child) -> dict[str, str]:
        """The child's environment: ours, the servers, its port and, with an embedded NATS,
        its own NATS user (the service's name)."""
        assert self.common
        login = self.users.logins[child.name].environment() if self.users else {}
        return {
            **os.environ,
            "NATS_URL": self.common.nats_url,
            "DATABASE_URL": self.common.database_url,
            "SUBJECT_PREFIX": self.common.subject_prefix,
            PORT_VARIABLES.get(child.name, "METRICS_PORT"): str(child.port),
            **login,
            **(self._dashboard_links() if child.name in LINK_SERVICES else {}),
        }

    def _dashboard_links(self) -> dict[str, str]:
        """DASHBOARD_LINK_SECRET and DASHBOARD_PUBLIC_URL as set, else this run's secret and
        the dashboard's local address (when it is started)."""
        links = {"DASHBOARD_LINK_SECRET": os.environ.get("DASHBOARD_LINK_SECRET", "")}
        links["DASHBOARD_LINK_SECRET"] = links["DASHBOARD_LINK_SECRET"] or self.link_secret
        url = os.environ.get("DASHBOARD_PUBLIC_URL", "")
        dashboards = [child for child in self.children if child.name == "dashboard"]
        if not url and dashboards:
            url = f"http://127.0.0.1:{dashboards[0].port}"
        if url:
            links["DASHBOARD_PUBLIC_URL"] = url
        return links

    async def spawn(self, child: Child) -> None:
        child.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"tally.{child.name}", env=self.environment(child)
        )

    async def start_services(self) -> None:
        names = [n for n in SERVICES if n != "gateway" or self.settings.bot_token]
        for offset, name in enumerate(names):
            preferred = self.settings.dashboard_port if name == "dashboard" else 9101 + offset
            child = Child(name, free_port(preferred))
            await self.spawn(child)
            self.children.append(child)
        await asyncio.gather(*(wait_ready(child) for child in self.children))

    async def supervise(self) -> None:
        """Restart a service that exits, up to MAX_RESTARTS times in a row."""
        while True:
            await asyncio.sleep(1)
            for child in self.children:
                if child.process and child.process.returncode is not None:
                    if child.restarts >= MAX_RESTARTS:
                        raise ServiceStartError(_exit_reason(child))
                    self.console.print(f"[yellow]{child.name} exited; restarting[/]")
                    child.restarts += 1
                    await self.spawn(child)

    async def stop_services(self) -> None:
        """SIGTERM every child, wait up to ``stop_timeout_s`` each, then kill; forget them."""
        for child in self.children:
            if child.process and child.process.returncode is None:
                child.process.terminate()
        for child in self.children:
            if child.process:
                try:
                    await asyncio.wait_for(child.process.wait(), timeout=self.stop_timeout_s)
                except TimeoutError:
                    child.process.kill()
        self.children.clear()

    async def stop(self) -> None:
        """Stop the services (:meth:`stop_services`), then the embedded servers; forget the
        stack's state file."""
        await self.stop_services()
        for server in reversed(self.embedded):
            server.stop()
        self.settings.state_file.unlink(missing_ok=True)


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as reply:
            return bool(reply.status == 204)
    except OSError:
        return False


class ServiceStartError(UserFacingError):
    """A service process exited before it was ready."""


class ServiceNotReadyError(UserFacingError, TimeoutError):
    """A service process is running but its /health/ready did not answer 204 in time."""


async def wait_ready(child: Child, *, timeout_s: float = 120.0) -> None:
    """Return once the child's /health/ready answers 204.

    Raises ServiceStartError at once when the child exits first (naming the port when
    another program holds it), and ServiceNotReadyError (a TimeoutError) when it is not ready
    within ``timeout_s`` s.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await asyncio.to_thread(_ready, child.port):
        if child.process and child.process.returncode is not None:
            raise ServiceStartError(_exit_reason(child))
        if loop.time() > deadline:
            raise ServiceNotReadyError(
                f"{child.name} was not ready within {timeout_s:g} s; see its log above "
                "(on a busy machine, start it again when the load has fallen)."
            )
        await asyncio.sleep(0.2)


def _exit_reason(child: Child) -> str:
    assert child.process
    if port_taken(child.port):
        return (
            f"{child.name} could not start: port {child.port} on 127.0.0.1 is taken by another "
            "program (another Tally?). Stop that program, or set TALLY_HOME and DASHBOARD_PORT "
            "for a second stack."
        )
    return f"{child.name} exited with code {child.process.returncode}; see its log above."


async def count_videos(common: CommonSettings) -> int:
    connection = await asyncpg.connect(**asyncpg_dsn(common.database_url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM videos"))
    finally:
        await connection.close()


def summary(stack: Stack) -> Table:
    """Where everything is, as a table for the terminal."""
    assert stack.common
    table = Table(title="Tally is running", show_header=False)
    table.add_row("NATS", redact(stack.common.nats_url))
    if stack.users:
        table.add_row("NATS users", f"one per service; logins in {stack.users.directory} (0600)")
    table.add_row("PostgreSQL", redact(stack.common.database_url))
    for child in stack.children:
        pid = child.process.pid if child.process else "-"
        path = "" if child.name == "dashboard" else "metrics"
        table.add_row(child.name, f"pid {pid}  http://127.0.0.1:{child.port}/{path}")
    telegram = "polling Telegram" if stack.settings.bot_token else "BOT_TOKEN not set: no Telegram"
    table.add_row("Telegram", telegram)
    table.add_row("Ask", 'tally ask "How many videos are in the system?"  |  tally chat')
    return table


class AlreadyRunningError(UserFacingError):
    """Another `tally up` owns this TALLY_HOME."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_not_running(settings: CliSettings) -> None:
    """Raise AlreadyRunningError when a live `tally up` wrote this home's state file."""
    state = StackState.load(settings.state_file)
    if state and state.pid != os.getpid() and _alive(state.pid):
        raise AlreadyRunningError(
            f"Tally is already running from {settings.tally_home} (pid {state.pid}); "
            "stop it first (Ctrl-C in its terminal, or `kill` that pid)."
        )


def _stop_on_signals(main: asyncio.Task[None]) -> None:
    """Cancel ``main`` on the first SIGTERM or SIGINT, and ignore the ones after it.

    SIGINT too: a shell starts background jobs with SIGINT ignored, and Python keeps that.
    Later signals are ignored because one Ctrl-C often arrives twice (the terminal signals the
    whole process group, and `uv run` forwards it): a second cancel would cut the stop short
    and leave the servers running.
    """
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stop_signal, lambda: None)
        main.cancel()

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, stop)


async def run_stack(settings: CliSettings, *, sample: Path | None, console: Console) -> None:
    """Run everything until cancelled (Ctrl-C or SIGTERM), then stop it all.

    Raises AlreadyRunningError when another `tally up` uses the same TALLY_HOME.
    """
    from tally.cli.importer import import_videos

    ensure_not_running(settings)
    StackState(nats_url="", database_url="", subject_prefix="", pid=os.getpid()).save(
        settings.state_file
    )
    stack = Stack(settings, console)
    main = asyncio.current_task()
    assert main
    _stop_on_signals(main)
    try:
        common = await asyncio.to_thread(stack.start_servers)
        await stack.prepare()
        await stack.start_services()
        state = StackState(
            nats_url=common.nats_url,
            database_url=common.database_url,
            subject_prefix=common.subject_prefix,
            pid=os.getpid(),
            services={c.name: f"http://127.0.0.1:{c.port}" for c in stack.children},
            nats_logins=str(stack.users.directory.resolve()) if stack.users else "",
        )
        state.save(settings.state_file)
        if sample and await count_videos(common) == 0:
            console.print(f"Database is empty: importing the sample data from {sample}")
            report = await import_videos(sample, common, console=console)
            console.print(f"Imported {report.videos:,} videos and {report.snapshots:,} snapshots")
        console.print(summary(stack))
        if not settings.bot_token:
            console.print("BOT_TOKEN is not set, so Telegram is off: ask with `tally chat`.")
        await stack.supervise()
    except asyncio.CancelledError:
        console.print("Stopping Tally…")
    finally:
        await stack.stop()
        console.print("Tally stopped.")
