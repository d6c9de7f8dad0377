"""The audit of admin commands end to end: the real gateway (fake Bot API) publishes each use of
an admin command or alert button on real NATS, the real ingest stores it in PostgreSQL.

A stranger's /alerts and /analytics are refused and land in ``admin_audit`` with
``allowed = false``; so do a stranger's group command and button presses (a forged action
named ``button:other``); an admin's command lands with ``allowed = true``; an event delivered
twice is stored once.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import asyncpg
import nats
import pytest
from nats.aio.client import Client

from tally.contracts.events import AdminAuditEvent
from tally.contracts.subjects import Subjects
from tally.gateway.app import running_gateway
from tally.gateway.config import GatewaySettings
from tally.gateway.telegram.admins import REFUSAL
from tally.gateway.telegram.keyboards import AlertButton
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.ingest.app import create_broker_for as ingest_broker
from tally.ingest.app import create_database_engine
from tally.ingest.config import IngestSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

ADMIN = 98_001
STRANGER = 98_002
GROUP = -100_980_001
ALERT_GROUP = "0123456789abcdef"

pytestmark = pytest.mark.timeout(90)


@dataclass
class Stack:
    telegram: FakeTelegram
    database: asyncpg.Connection
    nc: Client
    subjects: Subjects

    async def audited(self, user_id: int, count: int, timeout_s: float = 10) -> list[Any]:
        """The ``admin_audit`` rows of ``user_id`` (oldest first) once there are ``count``;
        raises AssertionError with what is there after ``timeout_s`` seconds."""
        deadline = time.monotonic() + timeout_s
        while True:
            rows = await self.database.fetch(
                "SELECT * FROM admin_audit WHERE user_id = $1 ORDER BY at, command", user_id
            )
            if len(rows) >= count:
                return rows
            assert time.monotonic() < deadline, f"{len(rows)} of {count} rows: {rows}"
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def stack(settings: CommonSettings, streams: None) -> AsyncIterator[Stack]:
    """Ingest and the gateway (ADMIN in ADMIN_USER_IDS, no throttling) on this run's servers;
    the audit rows of this module's users removed afterwards."""
    base = settings.model_dump()
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    async with AsyncExitStack() as services, FakeTelegram() as telegram:
        ingest_settings = IngestSettings(**base)
        engine = create_database_engine(ingest_settings)
        services.push_async_callback(engine.dispose)
        ingest = ingest_broker(ingest_settings, engine=engine)
        await ingest.start()
        services.push_async_callback(ingest.stop)
        gateway_settings = GatewaySettings(
            **base,
            bot_token=DEFAULT_TOKEN,
            telegram_api_base=telegram.base_url,
            admin_user_ids=[ADMIN],
            throttle_interval_s=0,
            group_throttle_interval_s=0,
        )
        await services.enter_async_context(running_gateway(gateway_settings))
        nc = await nats.connect(settings.nats_url)
        services.push_async_callback(nc.close)
        yield Stack(telegram, database, nc, Subjects(settings.subject_prefix))
    await database.execute(
        "DELETE FROM admin_audit WHERE user_id = ANY($1::bigint[])", [ADMIN, STRANGER, 98_003]
    )
    await database.close()


async def test_a_strangers_admin_commands_are_refused_and_audited(stack: Stack) -> None:
    """/alerts and /analytics from a stranger: the refusal, and two rows with
    ``allowed = false``, the command names, the stranger and their chat."""
    for command in ("/alerts", "/analytics"):
        stack.telegram.push_message(STRANGER, STRANGER, command)
    replies = await stack.telegram.wait_sent(count=2, timeout=10, chat_id=STRANGER)

    rows = await stack.audited(STRANGER, 2)

    assert [reply.text for reply in replies] == [REFUSAL, REFUSAL]
    assert sorted(row["command"] for row in rows) == ["alerts", "analytics"]
    assert {(row["allowed"], row["chat_id"]) for row in rows} == {(False, STRANGER)}


async def test_a_strangers_group_command_and_presses_are_audited(stack: Stack) -> None:
    """In a group, /silence with its arguments; under an alert, a press of Acknowledge and a
    press with a forged action: all refused and audited, the forged one as button:other."""
    before = len(await stack.audited(STRANGER, 0))
    stack.telegram.push_group_message(GROUP, STRANGER, "/silence alertname=IngestLag 2h")
    ack = AlertButton(action="ack", group=ALERT_GROUP).pack()
    forged = AlertButton(action="rm-rf", group=ALERT_GROUP).pack()
    presses = [stack.telegram.push_callback(GROUP, STRANGER, data) for data in (ack, forged)]

    [reply] = await stack.telegram.wait_sent(timeout=10, chat_id=GROUP)
    notices = [await stack.telegram.wait_press(press, timeout=10) for press in presses]
    rows = (await stack.audited(STRANGER, before + 3))[before:]

    assert reply.text == REFUSAL
    assert {(notice.notice, notice.alert) for notice in notices} == {(REFUSAL, True)}
    found = {(row["command"], row["chat_id"], row["detail"], row["allowed"]) for row in rows}
    assert found == {
        ("silence", GROUP, "alertname=IngestLag 2h", False),
        ("button:ack", GROUP, ALERT_GROUP, False),
        ("button:other", GROUP, ALERT_GROUP, False),
    }


async def test_an_admins_command_is_audited_as_allowed(stack: Stack) -> None:
    """An admin's /metrics with an unknown category: the usage, and a row with
    ``allowed = true`` and the argument."""
    stack.telegram.push_message(ADMIN, ADMIN, "/metrics bogus")
    [reply] = await stack.telegram.wait_sent(timeout=10, chat_id=ADMIN)

    [row] = await stack.audited(ADMIN, 1)

    assert reply.text != REFUSAL
    assert (row["command"], row["allowed"], row["detail"], row["chat_id"]) == (
        "metrics",
        True,
        "bogus",
        ADMIN,
    )


async def test_an_event_delivered_twice_is_stored_once(stack: Stack) -> None:
    """The same AdminAuditEvent published twice (as a redelivery would bring it) is one row."""
    event = AdminAuditEvent(user_id=98_003, chat_id=98_003, command="alerts", allowed=False)
    for _ in range(2):
        await stack.nc.publish(stack.subjects.admin_audit, event.model_dump_json().encode())
    await stack.nc.flush()
    marker = AdminAuditEvent(user_id=98_003, chat_id=98_003, command="watch", allowed=False)
    await stack.nc.publish(stack.subjects.admin_audit, marker.model_dump_json().encode())

    rows = await stack.audited(98_003, 2)
    await asyncio.sleep(0.5)

    assert len(await stack.audited(98_003, 2)) == 2
    assert sorted(row["id"] for row in rows) == sorted([event.audit_id, marker.audit_id])
