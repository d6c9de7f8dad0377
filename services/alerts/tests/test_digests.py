"""The digest scheduler on real NATS: two replicas on one digests bucket, driven by a fake
clock, post exactly one digest per period, none again after a restart, and none once the
digest is off."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from uuid import uuid4

import nats
import pytest
from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry

from tally.alerts.digests import DigestMetrics, DigestScheduler
from tally.contracts.chat_events import ChatSettings
from tally.contracts.chat_reports import ChatReport, ChatReportRequested
from tally.contracts.digests import DigestEntry, DigestReady
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects

CHAT, OTHER = -100_501, -100_502


class Bus:
    """A fake executor answering ``stats`` requests, and the digests published."""

    def __init__(self, client: Client, subjects: Subjects) -> None:
        self.client, self.subjects = client, subjects
        self.requests: list[ChatReportRequested] = []
        self.ready: list[DigestReady] = []

    async def start(self) -> None:
        await self.client.subscribe(self.subjects.chat_report, cb=self._answer)
        await self.client.subscribe(self.subjects.digest_ready, cb=self._ready)

    async def _answer(self, msg: Msg) -> None:
        request = ChatReportRequested.model_validate_json(msg.data)
        self.requests.append(request)
        first, last = request.span(date.today())
        report = ChatReport(
            chat_id=request.chat_id,
            kind="stats",
            timezone=request.timezone,
            first=first,
            last=last,
            messages=42,
        )
        await msg.respond(report.model_dump_json().encode())

    async def _ready(self, msg: Msg) -> None:
        self.ready.append(DigestReady.model_validate_json(msg.data))


@pytest.fixture
async def world(nats_url: str) -> AsyncIterator[tuple[Subjects, Client, Bus, list[NatsBroker]]]:
    subjects = Subjects(f"dg{uuid4().hex[:10]}")
    client = await nats.connect(nats_url)
    js = client.jetstream()
    await ensure_streams(js, subjects)
    bus = Bus(client, subjects)
    await bus.start()
    brokers = [NatsBroker(nats_url), NatsBroker(nats_url)]
    for broker in brokers:
        await broker.connect()
    yield subjects, client, bus, brokers
    for broker in brokers:
        await broker.stop()
    await delete_streams(js, subjects)
    await client.close()


async def _put(client: Client, subjects: Subjects, entry: DigestEntry) -> None:
    bucket = await client.jetstream().key_value(subjects.digests_bucket)
    await bucket.put(str(entry.chat_id), entry.model_dump_json().encode())


async def _entry(client: Client, subjects: Subjects, chat_id: int) -> DigestEntry:
    bucket = await client.jetstream().key_value(subjects.digests_bucket)
    found = await bucket.get(str(chat_id))
    assert found.value
    return DigestEntry.model_validate_json(found.value)


async def _pass(schedulers: list[DigestScheduler], now: datetime, bus: Bus) -> int:
    """Both replicas at ``now``, at once; the digests they sent (once delivered)."""
    sent = await asyncio.gather(*(scheduler.tick(now) for scheduler in schedulers))
    await bus.client.flush()
    await asyncio.sleep(0.05)
    return sum(sent)


async def test_two_replicas_send_one_digest_per_period_and_none_after_off(
    world: tuple[Subjects, Client, Bus, list[NatsBroker]],
) -> None:
    subjects, client, bus, brokers = world
    schedulers = [
        DigestScheduler(broker, subjects, DigestMetrics(CollectorRegistry())) for broker in brokers
    ]
    settings = await client.jetstream().key_value(subjects.chat_settings_bucket)
    await settings.put(str(CHAT), ChatSettings(timezone="Asia/Tokyo").model_dump_json().encode())
    await _put(
        client, subjects, DigestEntry(chat_id=CHAT, schedule="daily", last_sent=date(2026, 12, 1))
    )
    await _put(
        client,
        subjects,
        DigestEntry(chat_id=OTHER, schedule="weekly", last_sent=date(2026, 11, 29), language="ru"),
    )

    # 2 Dec 14:00 UTC is 23:00 in Tokyo: 1 Dec was sent, 2 Dec not over, the week not over.
    assert await _pass(schedulers, datetime(2026, 12, 2, 14, 0, tzinfo=UTC), bus) == 0
    # 15:30 UTC is 00:30 on 3 Dec in Tokyo: 2 Dec is due, once, by one replica or the other.
    for minute in (30, 31, 32):
        await _pass(schedulers, datetime(2026, 12, 2, 15, minute, tzinfo=UTC), bus)
    [daily] = bus.ready
    assert (daily.chat_id, daily.schedule, daily.first, daily.last) == (
        CHAT,
        "daily",
        date(2026, 12, 2),
        date(2026, 12, 2),
    )
    assert (daily.timezone, daily.report.messages) == ("Asia/Tokyo", 42)
    [request] = bus.requests
    assert (request.kind, request.first, request.last, request.timezone) == (
        "stats",
        date(2026, 12, 2),
        date(2026, 12, 2),
        "Asia/Tokyo",
    )
    assert (await _entry(client, subjects, CHAT)).last_sent == date(2026, 12, 2)

    # A restart (fresh schedulers) at the same time sends nothing again.
    restarted = [
        DigestScheduler(broker, subjects, DigestMetrics(CollectorRegistry())) for broker in brokers
    ]
    assert await _pass(restarted, datetime(2026, 12, 2, 16, 0, tzinfo=UTC), bus) == 0

    # Monday 7 Dec (UTC zone for OTHER): the week 30 Nov - 6 Dec, once; and CHAT's 6 Dec.
    monday = datetime(2026, 12, 7, 0, 5, tzinfo=UTC)
    await _pass(restarted, monday, bus)
    await _pass(schedulers, monday, bus)
    weekly = [ready for ready in bus.ready if ready.chat_id == OTHER]
    assert [(r.schedule, r.first, r.last, r.language) for r in weekly] == [
        ("weekly", date(2026, 11, 30), date(2026, 12, 6), "ru")
    ]
    daily_lasts = [r.last for r in bus.ready if r.chat_id == CHAT]
    assert daily_lasts == [date(2026, 12, 2), date(2026, 12, 6)]

    # Off: no more digests, and the period sent is remembered.
    off = (await _entry(client, subjects, CHAT)).model_copy(update={"schedule": None})
    await _put(client, subjects, off)
    count = len(bus.ready)
    assert await _pass(schedulers, datetime(2026, 12, 9, 0, 5, tzinfo=UTC), bus) == 0
    assert len(bus.ready) == count
    assert (await _entry(client, subjects, CHAT)).last_sent == date(2026, 12, 6)


async def test_a_failed_report_gives_the_claim_back(nats_url: str) -> None:
    """Nobody answers the report request: nothing is posted and the period stays due."""
    lonely = Subjects(f"dg{uuid4().hex[:10]}")
    client = await nats.connect(nats_url)
    await ensure_streams(client.jetstream(), lonely)
    broker = NatsBroker(nats_url)
    await broker.connect()
    try:
        entry = DigestEntry(chat_id=CHAT, schedule="daily", last_sent=date(2026, 12, 1))
        await _put(client, lonely, entry)
        scheduler = DigestScheduler(
            broker, lonely, DigestMetrics(CollectorRegistry()), report_timeout_s=0.2
        )
        assert await scheduler.tick(datetime(2026, 12, 3, 1, 0, tzinfo=UTC)) == 0
        assert (await _entry(client, lonely, CHAT)).last_sent == date(2026, 12, 1)
    finally:
        await broker.stop()
        await delete_streams(client.jetstream(), lonely)
        await client.close()
