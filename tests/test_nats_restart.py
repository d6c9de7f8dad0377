"""A restarted NATS costs a pause, not a service: nl2sql and executor reconnect on their own."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import pytest

from tally.cli.client import Asker
from tally.cli.embedded import EmbeddedNats
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.session import asyncpg_dsn
from tally.infra.errors import UserFacingError
from tally.infra.settings import CommonSettings
from tally.nl2sql.app import create_broker_for as nl2sql_broker
from tally.nl2sql.config import Nl2sqlSettings

QUESTION = "How many videos are in the system?"


@pytest.fixture
async def own_nats(
    tmp_path: Path, settings: CommonSettings
) -> AsyncIterator[tuple[EmbeddedNats, CommonSettings]]:
    """A nats-server of this test's own (so it can be restarted), nl2sql and executor on it."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    local = settings.model_copy(update={"nats_url": server.url})
    try:
        async with AsyncExitStack() as services:
            reader = Reader(ExecutorSettings(**local.model_dump()))
            services.push_async_callback(reader.close)
            for broker in (
                nl2sql_broker(Nl2sqlSettings(**local.model_dump())),
                executor_broker(ExecutorSettings(**local.model_dump()), reader),
            ):
                await broker.start()
                services.push_async_callback(broker.stop)
            yield server, local
    finally:
        server.stop()  # even when a failing test leaves the brokers unable to stop cleanly


async def _answer_within(settings: CommonSettings, seconds: float) -> float | int | None:
    """The answer to QUESTION, asking again (new connection each time) until ``seconds`` pass."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            async with Asker(settings, timeout_s=2) as asker:
                return (await asker.ask(QUESTION)).answer.value
        except UserFacingError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def test_services_answer_again_after_nats_restarts(
    own_nats: tuple[EmbeddedNats, CommonSettings],
) -> None:
    """Answered before the restart, answered after it, by the same service instances."""
    server, settings = own_nats
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    expected = await database.fetchval("SELECT count(*) FROM videos")
    await database.close()
    assert await _answer_within(settings, 10) == expected
    server.stop()
    await asyncio.sleep(1)
    server.start()
    assert await _answer_within(settings, 30) == expected
