"""One replica of each service killed with SIGKILL under load: every question is answered
and every confirmed chat event is stored exactly once.

Two replicas each of nl2sql, the executor and ingest run as child processes (as ``tally up``
starts them) on a database and subject prefix of their own. Askers publish questions over
the bus as the CLI does (``tally.cli.client.Asker``) while chat events stream in with
``Nats-Msg-Id`` and JetStream's confirmation; mid-load, one replica of each is killed.

Questions travel on core NATS, so one in flight in the killed nl2sql or executor is lost;
the asker publishes it again under the same question id (see ``Asker``). Chat events are
applied in stream order, so the surviving ingest waits for the killed one's batch, which
JetStream redelivers after the consumer's AckWait: the test bounds that stall.
"""

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import date

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.replay import replay_chat_events
from tally.chatstore.write.writer import ChatWriter, truncate_chat_tables
from tally.cli.client import Asker
from tally.cli.seed_chats import generate_chat_events, publish_chat_events
from tally.contracts.streams import ensure_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.settings import CommonSettings
from tests.chaos._stack import Service, until
from tests.chaos.test_ingest_killed import (
    _acked,
    _differences,
    _snapshot,
    stack,  # noqa: F401 (the fixture: a database and subject prefix of this test's own)
)

pytestmark = pytest.mark.timeout(300)
EVENTS = 30_000
CHUNK = 1_000
"""Chat events are published in chunks, one every ``CHUNK_EVERY_S``, so the load lasts."""
CHUNK_EVERY_S = 0.3
ASKERS = 4
STALL_SLACK_S = 5.0
"""How much longer than AckWait the ack floor may stand still after the kill."""
SLACK_S = 20.0
"""Beyond the consumer's AckWait, how long the surviving ingest may take to catch up."""


async def _stored_chat_events(service: Service) -> float:
    """``tally_ingest_events_total{kind="chat_event",outcome="stored"}`` of one replica."""
    found = re.search(
        r'tally_ingest_events_total\{kind="chat_event",outcome="stored"\} (\S+)',
        await service.metrics(),
    )
    return float(found.group(1)) if found else 0.0


@dataclass
class Load:
    """The question load's tally."""

    asked: int = 0
    answered: int = 0
    failures: list[str] = field(default_factory=list)
    reasked: int = 0
    slowest_s: float = 0.0


async def _ask(settings: CommonSettings, worker: int, stop: asyncio.Event, load: Load) -> None:
    """Ask distinct questions one after another until ``stop``; record every outcome."""
    async with Asker(settings, timeout_s=30) as asker:
        n = 0
        while not stop.is_set():
            n += 1
            threshold = 10_000 + worker * 1_000_000 + n  # no cached answer
            load.asked += 1
            started = time.perf_counter()
            try:
                asked = await asker.ask(f"How many videos got more than {threshold:,} views?")
            except Exception as error:
                load.failures.append(repr(error))
                continue
            load.slowest_s = max(load.slowest_s, time.perf_counter() - started)
            if asked.answer.outcome == "answered":
                load.answered += 1
            else:
                load.failures.append(f"{asked.answer.outcome}: {asked.answer.reason}")
        load.reasked += asker.reasked


async def _publish_slowly(js: JetStreamContext, subjects: Subjects, events: list) -> int:  # type: ignore[type-arg]
    confirmed = 0
    for start in range(0, len(events), CHUNK):
        confirmed += await publish_chat_events(js, subjects, events[start : start + CHUNK])
        await asyncio.sleep(CHUNK_EVERY_S)
    return confirmed


async def test_one_replica_of_each_killed_under_load(
    stack: tuple[CommonSettings, AsyncEngine],  # noqa: F811 (the fixture imported above)
) -> None:
    """SIGKILL one nl2sql, one executor and one ingest while questions and chat events flow:
    every question answered, every confirmed event stored once (the tables equal a clean
    rebuild), and the surviving ingest caught up within AckWait plus 20 s of the last event."""
    settings, engine = stack
    subjects = Subjects(settings.subject_prefix)
    events = generate_chat_events(end=date(2025, 11, 30), chats=6, users=400, days=40)[:EVENTS]
    environment = {
        "NATS_URL": settings.nats_url,
        "DATABASE_URL": settings.database_url,
        "SUBJECT_PREFIX": settings.subject_prefix,
        "CHAT_BATCH_SIZE": "500",
    }
    client = await nats.connect(settings.nats_url)
    js = client.jetstream()
    await ensure_streams(js, subjects)
    services = [Service(n, environment) for n in ("nl2sql", "executor", "ingest") for _ in "ab"]
    try:
        for service in services:
            await service.start()
        for service in services:
            await service.wait_ready(timeout_s=120)

        load, stop = Load(), asyncio.Event()
        askers = [asyncio.create_task(_ask(settings, w, stop, load)) for w in range(ASKERS)]
        publishing = asyncio.create_task(_publish_slowly(js, subjects, events))

        async def mid_stream() -> bool:
            return await _acked(js, subjects) >= EVENTS // 3 and load.answered >= 50

        await until(mid_stream, timeout_s=120, what="a third of the events and 50 answers")
        ingests = [s for s in services if s.name == "ingest"]
        stored = [await _stored_chat_events(s) for s in ingests]
        writing, standby = sorted(ingests, key=lambda s: stored[ingests.index(s)], reverse=True)
        killed = [services[0], services[2], writing]
        await asyncio.gather(*(s.kill() for s in killed))
        killed_at = time.monotonic()
        acked_at_kill = await _acked(js, subjects)
        answered_at_kill = load.answered
        stored_by_standby = await _stored_chat_events(standby)

        confirmed = await publishing
        last_published = time.monotonic()
        info = await js.consumer_info(subjects.chat_events_stream, CHATS_DURABLE)
        ack_wait_s = float(info.config.ack_wait or 30)

        floor = {"seq": acked_at_kill, "since": killed_at, "stall_s": 0.0}

        async def caught_up() -> bool:
            acked, now = await _acked(js, subjects), time.monotonic()
            if acked > floor["seq"]:
                floor.update(seq=acked, since=now)
            floor["stall_s"] = max(floor["stall_s"], now - floor["since"])
            return acked >= confirmed

        await until(caught_up, timeout_s=ack_wait_s + SLACK_S, what="the surviving ingest")
        catch_up_s = time.monotonic() - last_published
        after_kill_s = time.monotonic() - killed_at
        took_over = await _stored_chat_events(standby) > stored_by_standby
        await asyncio.sleep(2)  # questions keep flowing to the survivors
        stop.set()
        await asyncio.gather(*askers)
    finally:
        await asyncio.gather(*(s.stop() for s in services if s.process))

    print(
        f"\nkilled at ack floor {acked_at_kill}/{confirmed}, {answered_at_kill} answers;"
        f" caught up {catch_up_s:.1f} s after the last event, {after_kill_s:.1f} s after"
        f" the kill, longest stall {floor['stall_s']:.1f} s (AckWait {ack_wait_s:g} s);"
        f" {load.asked} questions, {load.answered} answered, {load.reasked} re-asked,"
        f" slowest {load.slowest_s:.2f} s"
    )
    assert confirmed == len(events)
    assert acked_at_kill < confirmed, "the kill came after every event was stored"
    assert max(stored) > 0, "no ingest replica stored chat events before the kill"
    assert took_over, "the surviving ingest stored nothing after the kill"
    assert floor["stall_s"] <= ack_wait_s + STALL_SLACK_S, floor
    assert load.answered > answered_at_kill, "no question was answered after the kill"
    assert not load.failures, load.failures[:5]
    assert load.answered == load.asked

    after_kill = await _snapshot(engine)
    messages = {(e.chat_id, e.message_id) for e in events if e.kind == "message"}
    assert len(after_kill["messages"]) == len(messages)
    await truncate_chat_tables(engine=engine)
    await replay_chat_events(js=js, subjects=subjects, writer=ChatWriter(engine))
    await client.close()
    assert not _differences(after_kill, await _snapshot(engine))
