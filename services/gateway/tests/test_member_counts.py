"""Member count snapshots: when they run, which chats they ask about, and the events they
publish to CHAT_EVENTS (real NATS, the fake Bot API): one per chat and day whatever the
number of gateways, one when the bot is added, none for a chat Telegram refuses."""

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from datetime import time as clock

import nats
import pytest
import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry

from tally.contracts.chat_events import CHAT_EVENT, MemberCountObserved
from tally.contracts.subjects import Subjects
from tally.gateway.app import Gateway
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram import member_counts
from tally.gateway.telegram.chat_events import ChatEventPublisher
from tally.gateway.telegram.member_counts import MemberCountSnapshots, chat_ids, seconds_until
from tally.infra.settings import CommonSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram
from tally.testing.waiting import until

_chats = itertools.count(-100_300_000_000, -1)


@pytest.fixture
def chat_id() -> int:
    """A supergroup id no other test uses."""
    return next(_chats)


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), 300),
        (datetime(2026, 3, 1, 0, 5, tzinfo=UTC), 86_400),
        (datetime(2026, 3, 1, 23, 0, tzinfo=UTC), 3_900),
    ],
)
def test_the_next_run_is_the_next_time_of_day(now: datetime, seconds: float) -> None:
    """At 00:05 UTC: 5 minutes after midnight; exactly at 00:05, the next day's."""
    assert seconds_until(now, clock(0, 5)) == seconds


def test_chat_ids_are_read_from_the_subjects() -> None:
    """Negative ids and a dotted prefix are read right; each chat once."""
    subjects = {"a.b.chats.-100.message": 3, "a.b.chats.-100.member_count": 1, "a.b.chats.7.x": 1}
    assert chat_ids(subjects) == [-100, 7]
    assert chat_ids(None) == []


async def test_a_failed_listing_is_tried_again_the_same_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NATS not answering at the daily time: the run tries again (RETRY_S later) instead of
    losing the day; an unexpected error is logged and does not end the daily task."""
    monkeypatch.setattr(member_counts, "RETRY_S", 0)
    snapshots = MemberCountSnapshots.__new__(MemberCountSnapshots)
    outcomes: list[Exception | None] = [nats.errors.TimeoutError(), None]

    async def take(now: datetime) -> int:
        if outcome := outcomes.pop(0):
            raise outcome
        return 1

    monkeypatch.setattr(snapshots, "take", take)
    await snapshots._take_today()
    assert outcomes == []

    outcomes[:] = [ValueError("a bug")]
    with structlog.testing.capture_logs() as logs:
        await snapshots._take_today()
    assert [log["event"] for log in logs] == ["member counts failed"]


# --- against NATS and the fake Bot API ------------------------------------------------------


@pytest.fixture
async def js(settings: CommonSettings) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(settings.nats_url)
    yield connection.jetstream()
    await connection.drain()


@pytest.fixture
async def second_gateway(
    settings: CommonSettings, telegram: FakeTelegram, subjects: Subjects
) -> AsyncIterator[MemberCountSnapshots]:
    """Another replica's snapshots: its own bot session, NATS connection and metrics."""
    broker = NatsBroker(settings.nats_url)
    await broker.start()
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url))
    bot = Bot(DEFAULT_TOKEN, session=session)
    metrics = GatewayMetrics(CollectorRegistry())
    yield MemberCountSnapshots(
        bot=bot,
        broker=broker,
        subjects=subjects,
        publisher=ChatEventPublisher(broker, subjects, metrics),
        metrics=metrics,
        at=clock(0, 5),
        pace_s=0,
    )
    await bot.session.close()
    await broker.stop()


async def counts_in_stream(js: JetStreamContext, subjects: Subjects) -> dict[int, int]:
    """Chat id -> member_count events in CHAT_EVENTS."""
    info = await js.stream_info(
        subjects.chat_events_stream, subjects_filter=subjects.chat_events_of_kind("member_count")
    )
    return {int(s.rsplit(".", 2)[1]): n for s, n in (info.state.subjects or {}).items()}


async def last_count(js: JetStreamContext, subjects: Subjects, chat_id: int) -> MemberCountObserved:
    message = await js.get_last_msg(
        subjects.chat_events_stream, subjects.chat_event(chat_id, "member_count")
    )
    event = CHAT_EVENT.validate_json(message.data or b"")
    assert isinstance(event, MemberCountObserved)
    return event


async def until_known(js: JetStreamContext, subjects: Subjects, chat_id: int) -> None:
    """Wait until the gateway's capture put a message of ``chat_id`` in the stream."""
    subject = subjects.chat_event(chat_id, "message")

    async def captured() -> bool:
        info = await js.stream_info(subjects.chat_events_stream, subjects_filter=subject)
        return bool(info.state.subjects)

    await until(captured, timeout_s=5, what=f"a message of chat {chat_id} captured")


@pytest.mark.usefixtures("streams")
async def test_two_gateways_publish_one_snapshot_per_chat_and_day(
    telegram: FakeTelegram,
    gateway: Gateway,
    second_gateway: MemberCountSnapshots,
    js: JetStreamContext,
    subjects: Subjects,
) -> None:
    """Both replicas take the day's snapshot (and one takes it twice): each known group has
    one member_count event, with Telegram's count, title and type and the day's event id; a
    group Telegram refuses (the bot was removed) has none and is counted as refused."""
    kept, small, gone = next(_chats), next(_chats), next(_chats)
    telegram.set_member_count(kept, 120)
    telegram.set_member_count(small, 7)
    for chat in (kept, small, gone):
        telegram.push_group_message(chat, 42, "hello")
    for chat in (kept, small, gone):
        await until_known(js, subjects, chat)
    now = datetime.now(UTC)
    first = gateway.member_counts
    first.pace_s = 0

    await first.take(now)
    await second_gateway.take(now)
    await first.take(now)

    found = await counts_in_stream(js, subjects)
    assert (found.get(kept), found.get(small), found.get(gone)) == (1, 1, None)
    event = await last_count(js, subjects, kept)
    assert (event.event_id, event.count) == (f"{kept}:member_count:{now.date()}", 120)
    assert (event.chat_type, event.chat_title) == ("supergroup", f"Chat{kept}")
    refused = gateway.registry.get_sample_value(
        "tally_gateway_member_count_snapshots_total", {"outcome": "refused"}
    )
    assert refused is not None and refused >= 2  # ``gone``, by each take of this gateway


@pytest.mark.usefixtures("streams")
async def test_a_snapshot_is_taken_when_the_bot_is_added(
    telegram: FakeTelegram,
    gateway: Gateway,
    js: JetStreamContext,
    subjects: Subjects,
    chat_id: int,
) -> None:
    """my_chat_member from left to member: the member count at once, under the update's id;
    a promotion (member to administrator) takes none."""
    telegram.set_member_count(chat_id, 33)
    telegram.push_bot_status(chat_id, "left")
    added = telegram.push_bot_status(chat_id, "member")
    telegram.push_bot_status(chat_id, "administrator")

    async def counted() -> bool:
        return chat_id in await counts_in_stream(js, subjects)

    await until(counted, timeout_s=5, what="a member count published")

    event = await last_count(js, subjects, chat_id)
    assert (event.event_id, event.count) == (f"{chat_id}:u{added}:member_count", 33)
    telegram.push_group_message(chat_id, 42, "after the promotion")
    await until_known(js, subjects, chat_id)
    assert (await counts_in_stream(js, subjects))[chat_id] == 1
