"""`tally up` observed from outside: every service process serves /metrics, /health/ready and
its AsyncAPI document, and `tally up` prints where each one is."""

import asyncio
import json
import os
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import pytest

from tally.infra.settings import CommonSettings
from tally.testing.processes import stop_group
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

TALLY = [sys.executable, "-m", "tally.cli.main"]
SERVICES = {"gateway", "nl2sql", "executor", "ingest", "alerts", "dashboard"}


@dataclass
class Stack:
    """A running `tally up`: its printed summary, services' URLs and subject prefix."""

    output: str
    services: dict[str, str]
    prefix: str


async def _started(process: asyncio.subprocess.Process) -> str:
    assert process.stdout
    output = ""
    while "Ask" not in output:  # the summary's last row
        line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
        assert line, f"tally up exited early: {output}"
        output += line
    return output


@pytest.fixture(scope="module")
async def stack(
    settings: CommonSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """`tally up --no-sample-data` with a (fake) bot token, so all six services run."""
    home = tmp_path_factory.mktemp("home")
    prefix = f"o{uuid4().hex[:8]}"
    async with FakeTelegram() as telegram:
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
            "NATS_URL": settings.nats_url,
            "DATABASE_URL": settings.database_url,
            "SUBJECT_PREFIX": prefix,
            "TALLY_HOME": str(home),
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": telegram.base_url,
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
            output = await _started(process)
            services = json.loads((home / "stack.json").read_text())["services"]
            yield Stack(output, services, prefix)
        finally:
            code = await stop_group(process, timeout_s=60)
        assert code == 0


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return int(reply.status), reply.read()


async def test_every_service_serves_metrics_and_readiness(stack: Stack) -> None:
    """Each of the six service processes answers /health/ready with 204 and /metrics with
    Prometheus text, and `tally up` printed where each one is."""
    assert set(stack.services) == SERVICES
    for name, url in stack.services.items():
        ready, _ = await asyncio.to_thread(_get, f"{url}/health/ready")
        assert ready == 204, name
        status, metrics = await asyncio.to_thread(_get, f"{url}/metrics")
        assert status == 200 and b"# TYPE " in metrics, name
        assert url in stack.output and name in stack.output, (name, stack.output)


async def test_a_service_serves_its_asyncapi_document(stack: Stack) -> None:
    """nl2sql's AsyncAPI document names the service and the subject it consumes."""
    status, body = await asyncio.to_thread(_get, f"{stack.services['nl2sql']}/asyncapi.json")
    document = json.loads(body)
    assert status == 200 and document["asyncapi"].startswith("3.")
    assert document["info"]["title"] == "tally-nl2sql"
    addresses = {channel.get("address") for channel in document["channels"].values()}
    assert f"{stack.prefix}.questions.asked" in addresses
