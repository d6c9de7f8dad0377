"""Gateway test fixtures: a fake Bot API server, the real gateway polling it, real NATS."""

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel

from tally.gateway.app import Gateway, running_gateway
from tally.gateway.config import GatewaySettings
from tally.infra.settings import CommonSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

ADMIN_CHATS = (-1001, -1002)
"""The chats ADMIN_CHAT_IDS names in these tests."""

_ids = itertools.count(1000)


@pytest.fixture
def user_id() -> int:
    """A Telegram user id (and private chat id) no other test uses."""
    return next(_ids)


@pytest.fixture(scope="module")
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture(scope="module")
def gateway_settings(settings: CommonSettings, telegram: FakeTelegram) -> GatewaySettings:
    """Private messages throttled as shipped; a member's group requests not at all (the
    tests send several in a row; test_flood.py throttles them); late questions not asked
    again (the stand-ins here answer when a test says so; test_reask.py asks again)."""
    return GatewaySettings(
        **settings.model_dump(),
        bot_token=DEFAULT_TOKEN,
        telegram_api_base=telegram.base_url,
        admin_chat_ids=list(ADMIN_CHATS),
        throttle_interval_s=0.5,
        group_throttle_interval_s=0,
        reask_after_s=0,
    )


@pytest.fixture(scope="module")
async def gateway(
    gateway_settings: GatewaySettings, spans: InMemorySpanExporter
) -> AsyncIterator[Gateway]:
    """The gateway, broker started and polling the fake server, for one test module."""
    async with running_gateway(gateway_settings) as running:
        yield running


@pytest.fixture
async def nc(settings: CommonSettings) -> AsyncIterator[Client]:
    """A plain nats-py connection, to see and publish what crosses the bus."""
    connection = await nats.connect(settings.nats_url)
    yield connection
    await connection.drain()


class Inbox:
    """Events on one subject that concern one user, parsed as ``model``, with their headers."""

    def __init__(self, model: type[BaseModel], user_id: int) -> None:
        self.model, self.user_id = model, user_id
        self.queue: asyncio.Queue[tuple[Any, dict[str, str]]] = asyncio.Queue()

    async def on_message(self, message: Msg) -> None:
        event = self.model.model_validate_json(message.data)
        if getattr(event, "user_id", None) == self.user_id:
            await self.queue.put((event, dict(message.headers or {})))

    async def next(self, timeout: float = 5) -> tuple[Any, dict[str, str]]:  # noqa: ASYNC109
        """The next event and its headers; raises TimeoutError after ``timeout`` seconds."""
        return await asyncio.wait_for(self.queue.get(), timeout)


Listen = Callable[[str, type[BaseModel], int], Awaitable[Inbox]]


@pytest.fixture
async def listen(nc: Client) -> Listen:
    """``await listen(subject, Model, user_id)``: an Inbox subscribed (flushed) to ``subject``."""

    async def subscribe(subject: str, model: type[BaseModel], user_id: int) -> Inbox:
        box = Inbox(model, user_id)
        await nc.subscribe(subject, cb=box.on_message)
        await nc.flush()
        return box

    return subscribe
