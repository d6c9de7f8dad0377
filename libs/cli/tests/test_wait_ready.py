"""``tally up`` and ``tally loadtest`` say in a sentence which service did not get ready."""

import asyncio
import sys

import pytest
import typer

from tally.cli import main
from tally.cli.embedded import free_port
from tally.cli.up import Child, ServiceNotReadyError, wait_ready


async def test_a_running_service_that_never_gets_ready_is_named() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(30)"
    )
    try:
        with pytest.raises(
            ServiceNotReadyError, match=r"gateway was not ready within 0.5 s"
        ) as caught:
            await wait_ready(Child("gateway", free_port(), process), timeout_s=0.5)
        assert isinstance(caught.value, TimeoutError)
    finally:
        process.kill()
        await process.wait()


def test_the_cli_prints_the_sentence_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    async def start() -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import time; time.sleep(30)"
        )
        try:
            await wait_ready(Child("gateway", free_port(), process), timeout_s=0.5)
        finally:
            process.kill()
            await process.wait()

    with pytest.raises(typer.Exit) as exited:
        main._run(start())
    assert exited.value.exit_code == 2
    assert "gateway was not ready within 0.5 s" in capsys.readouterr().out
