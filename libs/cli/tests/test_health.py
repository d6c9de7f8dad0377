"""``tally health`` on real NATS and PostgreSQL: a table of every component, and an exit code
that says whether anything is down."""

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tally.cli.config import StackState
from tally.cli.health import check_all
from tally.infra.settings import CommonSettings


class _Service(BaseHTTPRequestHandler):
    """``/ready-ok/health/ready`` answers 204, anything else 503 (a service not ready)."""

    def do_GET(self) -> None:
        self.send_response(204 if self.path.startswith("/ready-ok/") else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def service_base() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Service)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


async def test_every_component_is_checked(
    settings: CommonSettings, streams: None, service_base: str
) -> None:
    """NATS with this deployment's streams and the migrated database are up; a ready service
    is up and one answering 503 is down, with the code."""
    checks = await check_all(
        nats_url=settings.nats_url,
        database_url=settings.database_url,
        prefix=settings.subject_prefix,
        services={"executor": f"{service_base}/ready-ok", "ingest": f"{service_base}/busy"},
    )
    states = {check.component: (check.status, check.detail) for check in checks}
    assert states["nats"][0] == "up" and "streams" in states["nats"][1]
    assert states["postgresql"][0] == "up" and "migration " in states["postgresql"][1]
    assert states["executor"][0] == "up"
    assert states["ingest"] == ("down", f"{service_base}/busy not ready (503)")


async def test_missing_streams_and_a_dead_database_are_down(settings: CommonSettings) -> None:
    """A prefix whose streams were never declared, and a database nobody listens for."""
    checks = await check_all(
        nats_url=settings.nats_url,
        database_url="postgresql://postgres@127.0.0.1:1/nowhere",
        prefix="neverdeclared",
        services={},
    )
    assert [(check.component, check.status) for check in checks] == [
        ("nats", "down"),
        ("postgresql", "down"),
    ]
    assert "streams missing" in checks[0].detail


def test_the_command_exits_non_zero_when_something_is_down(
    settings: CommonSettings, streams: None, service_base: str, tmp_path: Path
) -> None:
    """``tally health`` prints the table from ``tally up``'s state and exits 1 when a
    service is down (and would exit 0 with all up)."""
    StackState(
        nats_url=settings.nats_url,
        database_url=settings.database_url,
        subject_prefix=settings.subject_prefix,
        pid=os.getpid(),
        services={"nl2sql": f"{service_base}/ready-ok", "alerts": f"{service_base}/down"},
    ).save(tmp_path / "stack.json")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("NATS_URL", "DATABASE_URL", "SUBJECT_PREFIX")
    }
    environment["TALLY_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "tally.cli.main", "health"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "nl2sql" in result.stdout and "alerts" in result.stdout and "down" in result.stdout
