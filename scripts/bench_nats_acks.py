"""What consuming chat events costs nats-server alone, by ack policy (issue 17, session 8).

Publishes the bench's first N chat events (``bench_ingest.events_for``) to a fresh deployment's
CHAT_EVENTS on NATS_URL's server, then reads them twice with each of two durable pull
consumers, ``fetch(2000)`` at a time: ``explicit`` acknowledges every message (as ingest does),
``all`` acknowledges the last of each fetch (``AckPolicy.ALL``). Prints the server's version
and, per pass, events/s and the CPU µs per event of this process and of every ``nats-server``
on this machine (``tally.cli.load_measures.servers_cpu``, read 1 s after the last ack, so the
server's work on the acks is in it). No Tally service runs. Usage::

    NATS_URL=nats://127.0.0.1:4222 uv run python scripts/bench_nats_acks.py [N]
"""

import asyncio
import os
import sys
import time
from pathlib import Path
from uuid import uuid4

import nats
import uvloop
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from tally.cli.load_measures import servers_cpu
from tally.cli.seed_chats import publish_chat_events
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import events_for  # type: ignore[import-not-found]  # beside this one

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
BATCH = 2000


def server_seconds() -> float:
    return servers_cpu().get("nats-server", 0.0)


async def consume(js: JetStreamContext, subjects: Subjects, policy: AckPolicy) -> None:
    """Read the stream's EVENTS messages once with a new durable of ``policy``; print the costs."""
    name = f"acks-{uuid4().hex[:6]}"
    config = ConsumerConfig(
        durable_name=name,
        ack_policy=policy,
        deliver_policy=DeliverPolicy.ALL,
        max_ack_pending=2 * BATCH,
        filter_subject=subjects.chat_events_all,
    )
    await js.add_consumer(subjects.chat_events_stream, config)
    sub = await js.pull_subscribe_bind(name, stream=subjects.chat_events_stream)
    server, cpu, wall, got = server_seconds(), time.process_time(), time.perf_counter(), 0
    while got < EVENTS:
        messages = await sub.fetch(min(BATCH, EVENTS - got), timeout=5)
        got += len(messages)
        for message in messages if policy == AckPolicy.EXPLICIT else messages[-1:]:
            await message.ack()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await asyncio.sleep(1.0)
    server = server_seconds() - server
    print(
        f"{policy.value:8} {EVENTS / wall:9,.0f} events/s, client {1e6 * cpu / EVENTS:5.1f}"
        f" µs/event, nats-server {1e6 * server / EVENTS:5.1f} µs/event"
    )
    await sub.unsubscribe()
    await js.delete_consumer(subjects.chat_events_stream, name)


async def main() -> None:
    client = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    js = client.jetstream()
    version = client.connected_server_version
    print(f"nats-server {version.major}.{version.minor}.{version.patch}")
    subjects = Subjects(f"acks{uuid4().hex[:6]}")
    await ensure_streams(js, subjects)
    try:
        server = server_seconds()
        await publish_chat_events(js, subjects, events_for(1)[:EVENTS])
        print(f"publish: nats-server {1e6 * (server_seconds() - server) / EVENTS:.1f} µs/event")
        for _ in range(2):
            await consume(js, subjects, AckPolicy.EXPLICIT)
            await consume(js, subjects, AckPolicy.ALL)
    finally:
        await delete_streams(js, subjects)
        await client.close()


if __name__ == "__main__":
    uvloop.run(main())
