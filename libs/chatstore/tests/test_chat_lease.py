"""The chat events lease on real NATS: one holder at a time, handed over when it stops."""

import asyncio
from collections.abc import AsyncIterator
from uuid import uuid4

import nats
import pytest
from nats.js import JetStreamContext

from tally.chatstore.write.lease import ChatLease
from tally.infra.settings import CommonSettings

pytestmark = pytest.mark.timeout(30)
TTL_S = 1.5


@pytest.fixture
async def js(settings: CommonSettings) -> AsyncIterator[JetStreamContext]:
    """JetStream on this run's NATS, where the lease's key-value bucket lives."""
    connection = await nats.connect(settings.nats_url)
    yield connection.jetstream()
    await connection.close()


class Subscriber:
    """Stands in for the FastStream subscriber the lease starts and stops (records calls)."""

    def __init__(self) -> None:
        self.running = True  # FastStream starts every subscriber with the broker

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False


async def _until(condition: object, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_one_holder_and_a_hand_over_when_it_stops(js: JetStreamContext) -> None:
    """The first lease runs its subscriber and the second stops its own; when the first
    stops, the second takes over within a third of the TTL, and runs its subscriber."""
    bucket = f"LEASE_{uuid4().hex[:8].upper()}"
    first, second = ChatLease(bucket, ttl_s=TTL_S), ChatLease(bucket, ttl_s=TTL_S)
    first.subscriber = first_subscriber = Subscriber()
    second.subscriber = second_subscriber = Subscriber()
    try:
        await first.start(js)
        await second.start(js)
        assert first.held and first_subscriber.running
        assert not second.held and not second_subscriber.running
        await first.stop()
        await _until(lambda: second.held and second_subscriber.running, TTL_S)
    finally:
        await second.stop()
        await js.delete_key_value(bucket)


async def test_a_killed_holder_is_replaced_after_the_ttl(js: JetStreamContext) -> None:
    """A holder that stops renewing without giving the lease up (killed) loses it when its
    entry expires; the standby takes it then, not before."""
    bucket = f"LEASE_{uuid4().hex[:8].upper()}"
    killed, standby = ChatLease(bucket, ttl_s=TTL_S), ChatLease(bucket, ttl_s=TTL_S)
    killed.subscriber, standby.subscriber = Subscriber(), Subscriber()
    try:
        await killed.start(js)
        await standby.start(js)
        assert killed._task is not None
        killed._task.cancel()  # as SIGKILL would: no renewal, no delete
        started = asyncio.get_running_loop().time()
        await _until(lambda: standby.held, 3 * TTL_S)
        assert asyncio.get_running_loop().time() - started >= TTL_S / 3
    finally:
        await standby.stop()
        await js.delete_key_value(bucket)
