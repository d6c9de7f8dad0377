"""`tally up` runs every service as its own process; `tally ask --json` answers through them."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.testing.processes import stop_group_sync

TALLY = [sys.executable, "-m", "tally.cli.main"]


def _environment(settings: CommonSettings, home: Path, prefix: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "NATS_URL"}}
    environment.update(
        DATABASE_URL=settings.database_url, TALLY_HOME=str(home), SUBJECT_PREFIX=prefix
    )
    return environment


@pytest.fixture(scope="module")
def running(
    settings: CommonSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """`tally up --no-sample-data` on this run's NATS and database, until it printed its table;
    started with SIGINT ignored (as a script's background job), stopped with SIGINT."""
    home = tmp_path_factory.mktemp("home")
    environment = _environment(settings, home, f"u{uuid4().hex[:8]}")
    environment["NATS_URL"] = settings.nats_url
    process = subprocess.Popen(
        [*TALLY, "up", "--no-sample-data"],
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # As a shell starts a background job: SIGINT ignored, which `tally up` must undo.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout
        output = ""
        deadline = time.monotonic() + 90
        while "Tally is running" not in output and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, f"tally up exited early: {output}"
            output += line
        yield {k: v for k, v in environment.items() if k != "NATS_URL"}
    finally:
        code = stop_group_sync(process)
    assert code == 0
    assert not (home / "stack.json").exists()


def _ask(environment: dict[str, str], question: str) -> dict[str, object]:
    done = subprocess.run(
        [*TALLY, "ask", "--json", question],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


async def _count(settings: CommonSettings) -> int:
    connection = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM videos"))
    finally:
        await connection.close()


async def test_ask_json_answers_through_service_processes(
    running: dict[str, str], settings: CommonSettings
) -> None:
    """The answer, its SQL and a 32-hex trace id come back from the separately running services."""
    reply = _ask(running, "How many videos are in the system?")
    assert reply["answer"] == await _count(settings)
    assert "count" in str(reply["sql"]).lower()
    assert len(str(reply["trace_id"])) == 32 and set(str(reply["trace_id"])) != {"0"}
    assert float(str(reply["elapsed_ms"])) > 0


def test_the_dashboard_runs_beside_the_services(running: dict[str, str]) -> None:
    """`tally up` starts the dashboard on a port of its own: ready, serving its pages."""
    state = json.loads((Path(running["TALLY_HOME"]) / "stack.json").read_text())
    url = state["services"]["dashboard"]
    with urllib.request.urlopen(f"{url}/health/ready", timeout=10) as ready:
        assert ready.status == 204
    with urllib.request.urlopen(f"{url}/", timeout=10) as page:
        assert page.status == 200 and b"Chats" in page.read()


def test_ask_json_refusal_has_a_reason(running: dict[str, str]) -> None:
    """A refused question prints answer null and why."""
    reply = _ask(running, "tell me a joke")
    assert reply["answer"] is None and reply["reason"]


def test_ask_without_a_stack_says_how_to_start_one(tmp_path: Path) -> None:
    """With no NATS_URL and no `tally up` state, ask exits 2 with a sentence, not a traceback."""
    environment = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    environment["TALLY_HOME"] = str(tmp_path)
    done = subprocess.run(
        [*TALLY, "ask", "hi"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "make run" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_second_tally_up_on_the_same_home_refuses(running: dict[str, str]) -> None:
    """Two stacks must not share one data directory: the second exits 2 and says why."""
    done = subprocess.run(
        [*TALLY, "up", "--no-sample-data"], env=running, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "already running" in done.stdout
