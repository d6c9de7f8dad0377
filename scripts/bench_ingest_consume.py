"""Ingest's Python CPU per chat event on the consume side: everything but the database writer.

Publishes N generated chat events (``tally seed-chats``, 10 chats, 1,000 users) into a fresh
CHAT_EVENTS stream (NATS_URL, a fresh subject prefix), then reads them back through the
durable ``ingest-chats`` consumer (explicit acks, as ingest makes it) in fetches of
CHAT_BATCH_SIZE with nats-py, and hands each fetch to ingest's own handler,
``store_chat_events``: parse, stream order, span, acknowledgements, metrics. Its writer is a
stand-in that stores nothing and reports every event written, so no PostgreSQL is needed and
the writer's cost (measured by ``bench_chat_writer_gc.py``) stays out.

Reports this process's CPU time (``time.process_time``, which other tenants' load changes far
less than wall time) per event, median over the fetches: ``fetch`` (nats-py's pull request and
the messages' arrival) and ``handle`` (the handler and its batch's settling, acks flushed).
The collector is set as ``tally.runtime.service.run_service`` sets it. Usage::

    uv run python scripts/bench_ingest_consume.py [N] [CHAT_BATCH_SIZE]
"""

import gc
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import date
from typing import Any, cast
from uuid import uuid4

import nats
import uvloop
from nats.js.api import AckPolicy, ConsumerConfig
from prometheus_client import CollectorRegistry

from tally.chatstore.write.stream_purge import TextEraser
from tally.chatstore.write.writer import ChatWriter, WriteResult
from tally.cli.seed_chats import generate_chat_events, publish_chat_events
from tally.contracts.chat_events import ChatEvent
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.ingest.chats.handlers import ChatBatch, ChatConsumer, store_chat_events
from tally.ingest.chats.order import StreamOrder
from tally.ingest.config import IngestSettings
from tally.ingest.metrics import IngestMetrics
from tally.runtime.service import GC_YOUNG_THRESHOLD

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
BATCH = int(sys.argv[2]) if len(sys.argv) > 2 else 2000


class NoWriter:
    """Stands in for ChatWriter: stores nothing, reports each event written."""

    async def write_isolating(
        self, events: Sequence[ChatEvent]
    ) -> tuple[WriteResult, list[tuple[int, str]]]:
        return WriteResult(events=len(events)), []


async def main() -> None:
    settings = IngestSettings(subject_prefix=f"benchc{uuid4().hex[:8]}", chat_batch_size=BATCH)
    subjects = Subjects(settings.subject_prefix)
    client = await nats.connect(settings.nats_servers(), **settings.nats_auth())
    js = client.jetstream()
    await ensure_streams(js, subjects)
    try:
        events = generate_chat_events(end=date(2025, 11, 30), chats=10, users=1000, days=240)
        await publish_chat_events(js, subjects, events[:EVENTS])
        del events
        config = ConsumerConfig(
            durable_name=CHATS_DURABLE, ack_policy=AckPolicy.EXPLICIT, max_ack_pending=2 * BATCH
        )
        await js.add_consumer(subjects.chat_events_stream, config)
        fetching = await js.pull_subscribe_bind(CHATS_DURABLE, stream=subjects.chat_events_stream)
        writer = cast(ChatWriter, NoWriter())
        order = StreamOrder(subjects.chat_events_stream)
        metrics = IngestMetrics(CollectorRegistry())
        chats = ChatBatch(writer, order, TextEraser(subjects), subjects, settings, metrics)
        consumer, broker = ChatConsumer(), cast(Any, None)  # no dead letters: no broker needed
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        fetch, handle, got = [], [], 0
        while got < EVENTS:
            started = time.process_time()
            batch = await fetching.fetch(min(BATCH, EVENTS - got), timeout=5)
            fetched = time.process_time()
            await store_chat_events(batch, broker, js, chats, consumer)
            await consumer.pipeline.wait()
            await client.flush()
            fetch.append((fetched - started) / len(batch))
            handle.append((time.process_time() - fetched) / len(batch))
            got += len(batch)
        print(
            f"{got:,} events in fetches of {BATCH}: CPU µs/event, median of {len(fetch)} fetches:"
            f" fetch {1e6 * statistics.median(fetch):.2f},"
            f" handle {1e6 * statistics.median(handle):.2f}"
        )
    finally:
        await delete_streams(js, subjects)
        await client.close()


if __name__ == "__main__":
    uvloop.run(main())
