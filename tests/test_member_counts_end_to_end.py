"""Member counts end to end: the gateway takes each known group's member count (the fake Bot
API's getChatMemberCount), real ingest stores one row per chat and day in PostgreSQL, and
/members in the group shows it through the real executor and the read model; a group whose
count Telegram refuses gets a sentence, not a number."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import nats
import pytest
from sqlalchemy import text

from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.gateway.app import Gateway, running_gateway
from tally.gateway.config import GatewaySettings
from tally.infra.db.session import create_engine
from tally.infra.settings import CommonSettings
from tally.ingest.app import create_broker_for as ingest_broker
from tally.ingest.app import create_database_engine
from tally.ingest.config import IngestSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.factories.chat_rows import remove_chats

COUNTED = -100_500_071
"""A group Telegram gives the member count of."""
REFUSED = -100_500_072
"""A group Telegram refuses (as when the bot was removed from it)."""
ASKER = 94_001


@pytest.fixture(scope="module")
async def own(settings: CommonSettings) -> AsyncIterator[CommonSettings]:
    """This run's servers on a subject prefix of this module's own, with its streams: the
    snapshots list only this module's groups, and only this module's ingest stores them."""
    prefixed = settings.model_copy(update={"subject_prefix": f"m{uuid4().hex[:10]}"})
    client = await nats.connect(settings.nats_url)
    js = client.jetstream()
    await ensure_streams(js, Subjects(prefixed.subject_prefix))
    yield prefixed
    await delete_streams(js, Subjects(prefixed.subject_prefix))
    await client.close()


@pytest.fixture(scope="module")
async def stack(own: CommonSettings) -> AsyncIterator[tuple[FakeTelegram, Gateway]]:
    """The fake Bot API, the gateway, the executor and ingest in this process."""
    base = own.model_dump()
    engine = create_engine(own.database_url)
    async with AsyncExitStack() as services, FakeTelegram() as fake:
        reader = Reader(ExecutorSettings(**base))
        services.push_async_callback(reader.close)
        executor = executor_broker(ExecutorSettings(**base), reader)
        await executor.start()
        services.push_async_callback(executor.stop)
        ingest_settings = IngestSettings(**base)
        write_engine = create_database_engine(ingest_settings)
        services.push_async_callback(write_engine.dispose)
        ingest = ingest_broker(ingest_settings, engine=write_engine)
        await ingest.start()
        services.push_async_callback(ingest.stop)
        settings = GatewaySettings(
            **base,
            bot_token=DEFAULT_TOKEN,
            telegram_api_base=fake.base_url,
            group_throttle_interval_s=0,
        )
        gateway = await services.enter_async_context(running_gateway(settings))
        yield fake, gateway
    await remove_chats(engine, [COUNTED, REFUSED], [ASKER], [])
    await engine.dispose()


async def _rows(database_url: str, chat_id: int) -> list[tuple[date, int]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(
                text("SELECT day, count FROM member_counts WHERE chat_id = :c ORDER BY day"),
                {"c": chat_id},
            )
            return [(day, count) for day, count in found]
    finally:
        await engine.dispose()


async def _until(check: Any, timeout: float = 20) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.1)


async def test_the_days_member_count_is_stored_once_and_shown_by_members(
    stack: tuple[FakeTelegram, Gateway], own: CommonSettings
) -> None:
    """Two runs on one day (the count changed in between) store one row, the first run's:
    JetStream kept one event; /members shows it, and says that the refused group has none."""
    telegram, gateway = stack
    telegram.set_member_count(COUNTED, 250)
    for chat in (COUNTED, REFUSED):
        telegram.push_group_message(chat, ASKER, "hello")

    async def both_known() -> bool:
        return set(await gateway.member_counts.chats()) == {COUNTED, REFUSED}

    await _until(both_known)
    now = datetime.now(UTC)
    assert await gateway.member_counts.take(now) == 1
    telegram.set_member_count(COUNTED, 260)
    assert await gateway.member_counts.take(now) == 1

    async def stored() -> bool:
        return bool(await _rows(own.database_url, COUNTED))

    await _until(stored)
    await asyncio.sleep(0.5)  # time for a second event, had one been kept
    assert await _rows(own.database_url, COUNTED) == [(now.date(), 250)]
    assert await _rows(own.database_url, REFUSED) == []

    telegram.push_group_message(COUNTED, ASKER, "/members")
    [card] = await telegram.wait_sent(count=1, timeout=15, chat_id=COUNTED)
    assert f"Members: 250 on {now:%d.%m}" in card.text
    telegram.push_group_message(REFUSED, ASKER, "/members")
    [none] = await telegram.wait_sent(count=1, timeout=15, chat_id=REFUSED)
    assert "Members: no count taken in this period" in none.text
