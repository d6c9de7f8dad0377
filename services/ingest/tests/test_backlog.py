"""The consumers' backlog gauges read JetStream's own numbers (real NATS, a prefix of its own
where the consumer is made by hand and nothing consumes)."""

from collections.abc import AsyncIterator
from uuid import uuid4

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from prometheus_client import CollectorRegistry

from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import VIDEOS_DURABLE, Subjects
from tally.infra.settings import CommonSettings
from tally.ingest.backlog import poll_once
from tally.ingest.metrics import IngestMetrics


@pytest.fixture
async def js(settings: CommonSettings) -> AsyncIterator[tuple[JetStreamContext, Subjects]]:
    """A JetStream with this test's own streams (deleted afterwards)."""
    connection = await nats.connect(settings.nats_url)
    subjects = Subjects(f"b{uuid4().hex[:8]}")
    await ensure_streams(connection.jetstream(), subjects)
    yield connection.jetstream(), subjects
    await delete_streams(connection.jetstream(), subjects)
    await connection.close()


async def test_pending_and_ack_pending_follow_the_consumer(
    js: tuple[JetStreamContext, Subjects],
) -> None:
    """Three batches stored: 3 pending; two fetched and not acked: 1 pending, 2 ack pending.
    Durables that do not exist yet have no series."""
    jetstream, subjects = js
    registry = CollectorRegistry()
    metrics = IngestMetrics(registry)
    stream = subjects.video_stats_stream
    await jetstream.add_consumer(stream, ConsumerConfig(durable_name=VIDEOS_DURABLE))
    for n in range(3):
        await jetstream.publish(subjects.video_batch, f"{n}".encode())

    def gauge(name: str) -> float | None:
        return registry.get_sample_value(name, {"stream": stream, "consumer": VIDEOS_DURABLE})

    await poll_once(jetstream, subjects, metrics)
    assert (gauge("tally_ingest_consumer_pending"), gauge("tally_ingest_consumer_ack_pending")) == (
        3,
        0,
    )
    subscription = await jetstream.pull_subscribe_bind(VIDEOS_DURABLE, stream=stream)
    assert len(await subscription.fetch(2, timeout=5)) == 2
    await poll_once(jetstream, subjects, metrics)
    assert (gauge("tally_ingest_consumer_pending"), gauge("tally_ingest_consumer_ack_pending")) == (
        1,
        2,
    )
    pending = {
        s.labels["consumer"]
        for m in registry.collect()
        for s in m.samples
        if m.name == "tally_ingest_consumer_pending"
    }
    assert pending == {VIDEOS_DURABLE}
