"""The chat events consumer's settings follow the process's on a later start, on real
JetStream (nats-py's pull_subscribe only sets them when it creates the consumer)."""

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from tally.ingest.chats.lifecycle import reconcile_consumer


@pytest.fixture
async def stream(nc: Client) -> AsyncIterator[tuple[JetStreamContext, str]]:
    """A throwaway stream of this test's own."""
    js = nc.jetstream()
    name = f"RECONCILE_{uuid4().hex[:8].upper()}"
    await js.add_stream(StreamConfig(name=name, subjects=[f"{name.lower()}.>"]))
    yield js, name
    await js.delete_stream(name)


async def test_an_existing_consumer_gets_the_new_limit(
    stream: tuple[JetStreamContext, str],
) -> None:
    """A durable made with max_ack_pending 10 gets 4,000 and keeps the rest of its config; a
    second call changes nothing; a consumer not made yet is left to the subscriber."""
    js, name = stream
    made = ConsumerConfig(
        durable_name="ingest-chats",
        ack_policy=AckPolicy.EXPLICIT,
        max_ack_pending=10,
        filter_subject=f"{name.lower()}.chats.>",
        ack_wait=30,
    )
    await js.add_consumer(name, made)

    assert await reconcile_consumer(js, name, "ingest-chats", limit=4000)
    info = await js.consumer_info(name, "ingest-chats")
    assert info.config.max_ack_pending == 4000
    assert (info.config.filter_subject, info.config.ack_wait) == (made.filter_subject, 30)
    assert not await reconcile_consumer(js, name, "ingest-chats", limit=4000)
    assert not await reconcile_consumer(js, name, "not-made-yet", limit=4000)
