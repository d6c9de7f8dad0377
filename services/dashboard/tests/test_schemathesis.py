"""schemathesis against the running dashboard (a real process on real NATS and PostgreSQL):
every operation of its OpenAPI document, fed examples, boundary values and random inputs
(huge page sizes, path traversal in ids, injection in query parameters), with and without the
admin token, answers without a 5xx, and every 2xx conforms to the schema."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tally.infra.settings import CommonSettings
from tests.factories.sample_chats import SampleChats

TOKEN = "schemathesis-token-0123456789"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard_url(
    settings: CommonSettings, streams: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``python -m tally.dashboard`` on a free port, until the module's tests are done."""
    port = _free_port()
    environment = {
        **os.environ,
        "NATS_URL": settings.nats_url,
        "DATABASE_URL": settings.database_url,
        "SUBJECT_PREFIX": settings.subject_prefix,
        "ADMIN_API_TOKEN": TOKEN,
        "DASHBOARD_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path_factory.mktemp("dashboard") / "dashboard.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tally.dashboard"], env=environment, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/health/ready", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def _schemathesis(url: str, *options: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
        "--workers", "1", "--max-examples", "25", "--seed", "1",
        "--phases", "examples,coverage,fuzzing", "--report-dir", str(tmp), *options,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_no_operation_answers_5xx_with_the_token(
    dashboard_url: str, sample: SampleChats, tmp_path: Path
) -> None:
    """With the token: no 5xx, and answers conform to the documented schemas."""
    result = _schemathesis(
        dashboard_url,
        "--header", f"X-Admin-Token: {TOKEN}",
        "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
        tmp=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:]


def test_no_operation_answers_5xx_or_data_without_the_token(
    dashboard_url: str, tmp_path: Path
) -> None:
    """With a wrong token, every operation is refused cleanly (no 5xx, no 2xx)."""
    result = _schemathesis(
        dashboard_url,
        "--header", "X-Admin-Token: wrong-token-wrong-token",
        "--checks", "not_a_server_error",
        tmp=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:]
