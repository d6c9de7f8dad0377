"""/digest on real NATS: a chat admin's /digest on|off writes the chat's entry in the
digests bucket (audited), a member's is refused and writes nothing, and a DigestReady on the
bus is posted to its chat as the /stats card. Updates are fed to the Dispatcher
(``feed_update``) with a Bot whose session answers from memory."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import nats
import pytest
from aiogram import Bot
from nats.aio.client import Client
from nats.js.errors import KeyNotFoundError
from prometheus_client import CollectorRegistry

from services.gateway.tests.test_dispatcher import Harness
from services.gateway.tests.test_group_commands import ADMIN, GROUP, MEMBER, GroupSession
from services.gateway.tests.test_group_commands import _group_message as group_message
from tally.contracts.chat_reports import ChatReport
from tally.contracts.digests import DigestEntry, DigestReady, latest_period
from tally.contracts.events import AdminAuditEvent
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.gateway.app import create_broker_for
from tally.gateway.config import GatewaySettings
from tally.gateway.context import GatewayContext
from tally.gateway.handlers import provide_context
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.digest import text
from tally.gateway.telegram.dispatcher import create_dispatcher, release_routers
from tally.testing.kv import MemoryKeyValue
from tally.testing.telegram import DEFAULT_TOKEN
from tally.testing.waiting import until

ZONE = ZoneInfo("UTC")


@pytest.fixture
async def gateway(nats_url: str) -> AsyncIterator[tuple[Harness, Client, Subjects]]:
    """A started gateway broker on its own prefix (streams and buckets declared), recording
    the admin audits in ``published``."""
    subjects = Subjects(f"gd{uuid4().hex[:10]}")
    client = await nats.connect(nats_url)
    await ensure_streams(client.jetstream(), subjects)
    settings = GatewaySettings(
        bot_token=DEFAULT_TOKEN,
        nats_url=nats_url,
        subject_prefix=subjects.prefix,
        throttle_interval_s=0,
        group_throttle_interval_s=0,
    )
    broker = create_broker_for(settings, subjects)
    session = GroupSession()
    bot = Bot(DEFAULT_TOKEN, session=session)
    registry = CollectorRegistry()
    ctx = GatewayContext.create(
        settings, subjects=subjects, bot=bot, broker=broker, metrics=GatewayMetrics(registry)
    )
    ctx.state.use(MemoryKeyValue())
    provide_context(broker, ctx)
    published: dict[str, list[dict[str, Any]]] = {}
    harness = Harness(create_dispatcher(ctx), bot, session, registry, broker, published)

    async def audit(msg: Any) -> None:
        published.setdefault("audit", []).append(AdminAuditEvent.model_validate_json(msg.data))

    await client.subscribe(subjects.admin_audit, cb=audit)
    await broker.start()
    try:
        yield harness, client, subjects
    finally:
        release_routers(harness.dispatcher)
        await broker.stop()
        await delete_streams(client.jetstream(), subjects)
        await client.close()


async def _entry(client: Client, subjects: Subjects) -> DigestEntry | None:
    bucket = await client.jetstream().key_value(subjects.digests_bucket)
    try:
        found = await bucket.get(str(GROUP))
    except KeyNotFoundError:
        return None
    return DigestEntry.model_validate_json(found.value) if found.value else None


async def _audits(harness: Harness) -> list[Any]:
    await asyncio.sleep(0.1)
    return harness.published.get("audit", [])


async def test_an_admin_turns_the_digest_on_and_off(
    gateway: tuple[Harness, Client, Subjects],
) -> None:
    harness, client, subjects = gateway
    await harness.feed(group_message("/digest on daily", user_id=ADMIN))

    entry = await _entry(client, subjects)
    assert entry is not None
    yesterday = latest_period("daily", datetime.now(UTC), ZONE)[1]
    assert (entry.schedule, entry.last_sent, entry.changed_by) == ("daily", yesterday, ADMIN)
    [reply] = harness.session.sent()
    assert reply.text == text("on", "en", schedule=text("daily", "en"))

    await harness.feed(group_message("/digest off", user_id=ADMIN))

    entry = await _entry(client, subjects)
    assert entry is not None
    assert (entry.schedule, entry.last_sent) == (None, yesterday)
    assert harness.session.sent()[-1].text == text("off", "en")
    await harness.feed(group_message("/digest", user_id=MEMBER))
    assert harness.session.sent()[-1].text == text("status_off", "en")
    audits = await _audits(harness)
    assert [(a.command, a.user_id, a.allowed, a.detail) for a in audits] == [
        ("digest", ADMIN, True, "on daily"),
        ("digest", ADMIN, True, "off"),
    ]


async def test_a_member_is_refused_and_nothing_is_written(
    gateway: tuple[Harness, Client, Subjects],
) -> None:
    harness, client, subjects = gateway
    await harness.feed(group_message("/digest on", user_id=MEMBER))

    assert await _entry(client, subjects) is None
    [reply] = harness.session.sent()
    assert reply.text == text("refused", "en")
    [audit] = await _audits(harness)
    assert (audit.command, audit.user_id, audit.allowed) == ("digest", MEMBER, False)


async def test_a_bad_schedule_gets_the_usage(gateway: tuple[Harness, Client, Subjects]) -> None:
    harness, client, subjects = gateway
    await harness.feed(group_message("/digest on hourly", user_id=ADMIN))

    assert await _entry(client, subjects) is None
    [reply] = harness.session.sent()
    assert reply.text == text("usage", "en")


async def test_a_digest_on_the_bus_is_posted_to_its_chat(
    gateway: tuple[Harness, Client, Subjects],
) -> None:
    harness, client, subjects = gateway
    day = date(2026, 12, 2)
    report = ChatReport(
        chat_id=GROUP, kind="stats", timezone="UTC", first=day, last=day, messages=42
    )
    ready = DigestReady(
        chat_id=GROUP, schedule="daily", first=day, last=day, report=report, timezone="UTC"
    )
    await client.publish(subjects.digest_ready, ready.model_dump_json().encode())

    await until(lambda: bool(harness.session.sent()), timeout_s=2.5, what="the digest card")
    [card] = harness.session.sent()
    assert card.chat_id == GROUP
    assert text("heading_daily", "en") in card.text
    assert "42" in card.text
