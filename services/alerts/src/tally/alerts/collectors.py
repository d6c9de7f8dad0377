"""Collectors: JetStream consumers and streams, and a PostgreSQL probe, sampled into the
engine's :class:`~tally.alerts.domain.samples.SampleStore` at each evaluation.

Series (label values are bounded: the deployment's stream names and durable names):

- ``consumer_pending{stream,consumer}``, ``consumer_ack_pending{stream,consumer}``: every
  durable consumer of the deployment's streams (JetStream's ``num_pending`` and
  ``num_ack_pending``);
- ``dead_letters``: messages held by the DEAD_LETTERS stream;
- ``database_up`` (1 or 0) and ``database_latency_ms`` (only when up): ``select 1`` within
  the probe timeout.
"""

import asyncio
import time

import structlog
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.domain.samples import SampleStore
from tally.contracts.streams import stream_configs
from tally.contracts.subjects import Subjects

log = structlog.get_logger(__name__)


async def collect_jetstream(
    js: JetStreamContext, subjects: Subjects, store: SampleStore, at: float
) -> None:
    """Sample every durable consumer's backlog and the dead letters count at ``at``.
    A stream that is missing or does not answer is skipped (logged)."""
    for config in stream_configs(subjects):
        stream = config.name or ""
        try:
            consumers = await js.consumers_info(stream)
            if stream == subjects.dead_letter_stream:
                info = await js.stream_info(stream)
                store.record("dead_letters", info.state.messages, at)
        except (NatsError, TimeoutError) as error:
            log.warning("jetstream sample failed", stream=stream, error=repr(error))
            continue
        for consumer in consumers:
            if not consumer.config.durable_name:
                continue
            labels = {"stream": stream, "consumer": consumer.config.durable_name}
            store.record("consumer_pending", consumer.num_pending or 0, at, labels)
            store.record("consumer_ack_pending", consumer.num_ack_pending or 0, at, labels)


async def probe_database(
    engine: AsyncEngine, store: SampleStore, at: float, timeout_s: float
) -> bool:
    """Run ``select 1`` within ``timeout_s``; record ``database_up`` and, when it answered,
    ``database_latency_ms``. True when up."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s), engine.connect() as connection:
            await connection.execute(text("select 1"))
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        log.warning("database probe failed", error=repr(error))
        store.record("database_up", 0.0, at)
        return False
    store.record("database_latency_ms", (time.perf_counter() - started) * 1000, at)
    store.record("database_up", 1.0, at)
    return True
