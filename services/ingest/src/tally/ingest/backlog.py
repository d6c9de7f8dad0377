"""How far ingest's durable consumers are behind: their JetStream consumer info, polled.

Every ``consumer_poll_s`` seconds a background task asks JetStream (over its own NATS
connection) for each durable's info and sets ``tally_ingest_consumer_pending{stream,
consumer}`` (messages stored but not yet delivered: the lag, in messages) and
``tally_ingest_consumer_ack_pending{stream, consumer}`` (delivered, not yet acknowledged).
A consumer that does not exist yet, or a NATS that does not answer, is logged and skipped.
"""

import asyncio

import nats
import nats.errors
import structlog
from nats.js import JetStreamContext
from nats.js.errors import Error as JetStreamError

from tally.contracts.subjects import Subjects
from tally.infra.background import Hook, background
from tally.ingest.config import IngestSettings
from tally.ingest.metrics import IngestMetrics

log = structlog.get_logger(__name__)


async def poll_once(js: JetStreamContext, subjects: Subjects, metrics: IngestMetrics) -> None:
    """Set both gauges of every durable from its consumer info (skipping those JetStream
    does not know yet)."""
    for stream, durable in subjects.ingest_consumers:
        try:
            info = await js.consumer_info(stream, durable)
        except (JetStreamError, nats.errors.Error, TimeoutError) as error:
            log.debug("consumer info not read", stream=stream, consumer=durable, error=str(error))
            continue
        metrics.consumer_pending.labels(stream, durable).set(info.num_pending or 0)
        metrics.consumer_ack_pending.labels(stream, durable).set(info.num_ack_pending or 0)


def poller(
    settings: IngestSettings, subjects: Subjects, metrics: IngestMetrics
) -> tuple[Hook, Hook]:
    """(start, stop) hooks for the app: start connects and polls every
    ``settings.consumer_poll_s`` seconds in a task; stop cancels it and disconnects."""

    async def loop() -> None:
        connection = await nats.connect(
            settings.nats_servers(), **settings.nats_auth(), max_reconnect_attempts=-1
        )
        try:
            while True:
                await poll_once(connection.jetstream(), subjects, metrics)
                await asyncio.sleep(settings.consumer_poll_s)
        finally:
            await connection.close()

    return background(loop, name="consumer-backlog")
