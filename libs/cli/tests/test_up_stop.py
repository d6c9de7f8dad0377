"""Stopping ``tally up``'s and the load test's services: SIGTERM, a bounded wait, then kill."""

import asyncio
import signal
import sys

from rich.console import Console

from tally.cli.config import CliSettings
from tally.cli.load_stack import LoadStack
from tally.cli.up import Child, Stack

IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " print('ready', flush=True); time.sleep(60)"
)


async def test_a_service_that_ignores_sigterm_is_killed_after_the_wait() -> None:
    """A service that exits on SIGTERM ends by it; one that ignores it is killed once
    ``stop_timeout_s`` has passed; both are forgotten."""
    stack = Stack(settings=CliSettings(), console=Console(), stop_timeout_s=0.5)
    polite = await asyncio.create_subprocess_exec("sleep", "60")
    stubborn = await asyncio.create_subprocess_exec(
        sys.executable, "-c", IGNORES_SIGTERM, stdout=asyncio.subprocess.PIPE
    )
    assert stubborn.stdout is not None
    await stubborn.stdout.readline()  # its SIGTERM handler is set
    stack.children = [Child("ingest", 9101, polite), Child("executor", 9102, stubborn)]

    await stack.stop_services()

    killed = await asyncio.wait_for(stubborn.wait(), timeout=5)  # kill() does not reap
    assert (polite.returncode, killed) == (-signal.SIGTERM, -signal.SIGKILL)
    assert stack.children == []


async def test_the_load_stack_forgets_its_webhooks_with_its_services() -> None:
    """The load test's stack drops each gateway's webhook address when it stops them."""
    stack = LoadStack(settings=CliSettings(), console=Console())
    stack.webhooks[9100] = "http://127.0.0.1:9200/telegram/webhook"

    await stack.stop_services()

    assert stack.webhooks == {}
